// Package originid decides whether spec.userInfo may be sent to brokers as
// the originating identity (X-Broker-API-Originating-Identity).
//
// A broker may act on that header (audit, quotas, who may see what), so it
// must name the user who really acted. The API server writes spec.userInfo
// from the authenticated requester when svcat's MutatingAdmissionPolicy
// (config/admission/user-info-policy.yaml) is installed; without it,
// spec.userInfo is whatever the user wrote, and sending it would present a
// claim ("I am system:admin") as verified. Then nothing is sent.
package originid

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/osb"
)

// Mode is the --originating-identity setting.
type Mode string

const (
	// Auto sends spec.userInfo while a probe shows that the API server
	// overwrites a user-written one, checked at start-up and every Period.
	Auto Mode = "auto"
	// AdmissionPolicy always sends it: the administrator vouches that the
	// policy (or another admission controller) sets it.
	AdmissionPolicy Mode = "admission-policy"
	// None never sends an originating identity.
	None Mode = "none"
)

// ParseMode checks a --originating-identity value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Auto, AdmissionPolicy, None:
		return m, nil
	}
	return "", fmt.Errorf("--originating-identity %q: want auto, admission-policy or none", s)
}

// String and Set make a Mode a flag value.
func (m *Mode) String() string { return string(*m) }

// Set parses a flag value.
func (m *Mode) Set(s string) error {
	v, err := ParseMode(s)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// DefaultPeriod is how often Auto probes again: installing or removing the
// policy takes effect within it.
const DefaultPeriod = time.Minute

// ProbeUsername is the identity the probe writes; an API server that
// stamps the requester replaces it.
const ProbeUsername = "svcat:originating-identity-probe"

// Gate tells the reconcilers whether to send the identity.
type Gate struct {
	Mode Mode
	// Client creates the probe instance, as a dry run: nothing is stored,
	// but admission runs as for a real create.
	Client client.Client
	// Namespace holds the probe: one where admission applies as it does
	// for tenants, and that exists (the controller's own).
	Namespace string
	Period    time.Duration
	Log       logr.Logger

	verified atomic.Bool
	logged   bool // the first "not verified" was logged
}

// Trusted tells whether spec.userInfo is the real requester's.
func (g *Gate) Trusted() bool {
	if g == nil {
		return false
	}
	switch g.Mode {
	case AdmissionPolicy:
		return true
	case Auto:
		return g.verified.Load()
	}
	return false
}

// User is u when it can be trusted, else nil (no header).
func (g *Gate) User(u *osb.UserInfo) *osb.UserInfo {
	if !g.Trusted() {
		return nil
	}
	return u
}

// NeedLeaderElection is false: every replica may become the leader and
// must know by then.
func (g *Gate) NeedLeaderElection() bool { return false }

// Start probes until ctx ends, in Auto mode. Until the first probe
// answers, nothing is trusted.
func (g *Gate) Start(ctx context.Context) error {
	if g.Mode != Auto {
		return nil
	}
	period := g.Period
	if period <= 0 {
		period = DefaultPeriod
	}
	for {
		ok, err := Probe(ctx, g.Client, g.Namespace)
		if err != nil {
			// A failed probe proves nothing either way: keep what the last
			// one showed, and try again in a period.
			g.Log.Error(err, "probing whether the API server sets spec.userInfo")
		} else if g.verified.Swap(ok) != ok || (!ok && !g.logged) {
			g.logged = true
			if ok {
				g.Log.Info("the API server sets spec.userInfo from the requester: it is sent to brokers as the originating identity")
			} else {
				g.Log.Info("the API server does not set spec.userInfo (svcat's MutatingAdmissionPolicy is not installed): no originating identity is sent to brokers")
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(period):
		}
	}
}

// Probe creates, as a dry run, an instance whose spec.userInfo claims to be
// ProbeUsername, and tells whether the API server replaced it.
func Probe(ctx context.Context, c client.Client, namespace string) (bool, error) {
	inst := &scv1beta1.ServiceInstance{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, GenerateName: "svcat-identity-probe-"},
		Spec: scv1beta1.ServiceInstanceSpec{
			PlanReference: scv1beta1.PlanReference{ClusterServiceClassExternalName: "svcat-identity-probe", ClusterServicePlanExternalName: "probe"},
			UserInfo:      &scv1beta1.UserInfo{Username: ProbeUsername},
		},
	}
	if err := c.Create(ctx, inst, client.DryRunAll); err != nil {
		return false, err
	}
	u := inst.Spec.UserInfo
	return u != nil && u.Username != "" && u.Username != ProbeUsername, nil
}
