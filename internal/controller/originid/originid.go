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
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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

// MarkerName is the Lease, in the controller's namespace, whose creation
// time says since when the API server has been seen setting spec.userInfo.
const MarkerName = "svcat-originating-identity"

// Gate tells the reconcilers whether to send the identity.
//
// In Auto mode an object's spec.userInfo is trusted only when the object
// was created after the policy was first seen in effect: one stored before
// carries what its user wrote, and the policy rewrites it only when a user
// next changes what is sent to the broker. That moment is kept as the
// creation time of a Lease (by the API server's clock, shared by every
// replica and kept across restarts), deleted when the policy is seen gone,
// so that a policy installed again trusts nothing created in between.
type Gate struct {
	Mode Mode
	// Client creates the probe instance, as a dry run (nothing is stored,
	// but admission runs as for a real create), and the marker Lease.
	Client client.Client
	// APIReader reads the marker uncached.
	APIReader client.Reader
	// Namespace holds the probe and the marker: one where admission applies
	// as it does for tenants, that exists, and where only the controller
	// writes Leases (its own).
	Namespace string
	Period    time.Duration
	Log       logr.Logger

	since  atomic.Pointer[time.Time]
	logged bool // the first "not verified" was logged
}

// Trusted tells whether the spec.userInfo of an object created at created
// is the real requester's.
func (g *Gate) Trusted(created metav1.Time) bool {
	if g == nil {
		return false
	}
	switch g.Mode {
	case AdmissionPolicy:
		return true
	case Auto:
		since := g.since.Load()
		// After, not equal: timestamps have whole seconds, and within the
		// marker's second the policy may not yet have been in effect.
		return since != nil && created.Time.After(*since)
	}
	return false
}

// User is u when the user info of an object created at created can be
// trusted, else nil (no header).
func (g *Gate) User(u *osb.UserInfo, created metav1.Time) *osb.UserInfo {
	if !g.Trusted(created) {
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
		if err := g.check(ctx); err != nil {
			// A failed probe proves nothing either way: keep what the last
			// one showed, and try again in a period.
			g.Log.Error(err, "probing whether the API server sets spec.userInfo")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(period):
		}
	}
}

// check probes once and records the answer.
func (g *Gate) check(ctx context.Context) error {
	ok, err := Probe(ctx, g.Client, g.Namespace)
	if err != nil {
		return err
	}
	if !ok {
		was := g.since.Swap(nil)
		if was != nil || !g.logged {
			g.logged = true
			g.Log.Info("the API server does not set spec.userInfo (svcat's MutatingAdmissionPolicy is not in effect): no originating identity is sent to brokers")
		}
		return client.IgnoreNotFound(g.Client.Delete(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: g.Namespace, Name: MarkerName}}))
	}
	since, err := g.marker(ctx)
	if err != nil {
		return err
	}
	if was := g.since.Swap(&since); was == nil || !was.Equal(since) {
		g.Log.Info("the API server sets spec.userInfo from the requester: it is sent to brokers as the originating identity for objects created after "+since.UTC().Format(time.RFC3339), "marker", g.Namespace+"/"+MarkerName)
	}
	return nil
}

// marker returns the creation time of the marker Lease, creating it first
// when it does not exist.
func (g *Gate) marker(ctx context.Context) (time.Time, error) {
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: g.Namespace, Name: MarkerName,
		Labels: map[string]string{scv1beta1.LabelManagedBy: scv1beta1.ManagedByValue}}}
	err := g.Client.Create(ctx, l)
	if apierrors.IsAlreadyExists(err) {
		err = g.APIReader.Get(ctx, client.ObjectKeyFromObject(l), l)
	}
	if err != nil {
		return time.Time{}, err
	}
	return l.CreationTimestamp.Time, nil
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
