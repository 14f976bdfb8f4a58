package tenancy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// Issue 14, item 4 (forged identity): a tenant writes spec.userInfo claiming
// to be system:admin in system:masters. With the MutatingAdmissionPolicy the
// tree ships, the stored object names the tenant; without one, the
// controller must not vouch for what the user wrote. Either way a broker
// never receives the forged identity as the originating identity: the
// header names the tenant, or is absent.
func TestForgedUserInfoNeverReachesTheBroker(t *testing.T) {
	c := setup(t)
	ctx := context.Background()
	c.startController(t, 0)
	eve := c.newTenant(t, "eve")
	b := testbroker.Start(t, testbroker.Options{})
	eve.createBroker(t, "own", b.URL(), testbroker.DefaultUsername, testbroker.DefaultPassword)
	forged := &scv1beta1.UserInfo{Username: "system:admin", UID: "forged", Groups: []string{"system:masters"}}

	inst := namespacedInstance(eve.ns, "db", "cloudkarafka", "duck")
	inst.Spec.UserInfo = forged.DeepCopy()
	createForged(t, eve, inst, func() { inst.Spec.UserInfo = nil })
	waitFor(t, time.Minute, "eve's instance Ready", instanceReady(eve.c, eve.ns, "db"))
	bind := &scv1beta1.ServiceBinding{}
	bind.Namespace, bind.Name = eve.ns, "creds"
	bind.Spec.InstanceRef.Name = "db"
	bind.Spec.UserInfo = forged.DeepCopy()
	createForged(t, eve, bind, func() { bind.Spec.UserInfo = nil })
	waitFor(t, time.Minute, "eve's binding Ready", bindingReady(eve.c, eve.ns, "creds"))

	if c.admissionPolicies {
		stored := &scv1beta1.ServiceInstance{}
		must(t, eve.c.Get(ctx, client.ObjectKey{Namespace: eve.ns, Name: "db"}, stored))
		checkStored(t, "ServiceInstance", stored.Spec.UserInfo, eve.name)
		storedB := &scv1beta1.ServiceBinding{}
		must(t, eve.c.Get(ctx, client.ObjectKey{Namespace: eve.ns, Name: "creds"}, storedB))
		checkStored(t, "ServiceBinding", storedB.Spec.UserInfo, eve.name)
	} else {
		t.Logf("no MutatingAdmissionPolicy in %v: only the header is checked", manifestDirs)
	}

	for _, op := range []osb.Operation{osb.OpProvision, osb.OpBind} {
		reqs := b.RequestsFor(op)
		if len(reqs) == 0 {
			t.Fatalf("the broker received no %s", op)
		}
		for _, r := range reqs {
			h := r.Header.Get("X-Broker-API-Originating-Identity")
			if h == "" {
				continue
			}
			u, err := decodeIdentity(h)
			if err != nil {
				t.Errorf("%s: X-Broker-API-Originating-Identity %q: %v", op, h, err)
				continue
			}
			if u.Username != eve.name || hasGroup(u.Groups, "system:masters") {
				t.Errorf("%s: the broker received the originating identity %q in groups %v; want the tenant %q or no header",
					op, u.Username, u.Groups, eve.name)
			}
		}
	}
}

// createForged creates o with its forged userInfo; an API server that
// refuses it protects as well as one that overwrites it, and then o is
// created without, so the broker's side is still checked.
func createForged(t *testing.T, tn *tenant, o client.Object, unforge func()) {
	t.Helper()
	err := tn.c.Create(context.Background(), o)
	if apierrors.IsForbidden(err) || apierrors.IsInvalid(err) {
		t.Logf("the API server refused %s with a forged spec.userInfo: %v", o.GetName(), err)
		unforge()
		o.SetResourceVersion("")
		err = tn.c.Create(context.Background(), o)
	}
	must(t, err)
}

func checkStored(t *testing.T, kind string, u *scv1beta1.UserInfo, want string) {
	t.Helper()
	switch {
	case u == nil:
		t.Errorf("the stored %s has no spec.userInfo; the admission policy should set it to %q", kind, want)
	case u.Username != want || hasGroup(u.Groups, "system:masters"):
		t.Errorf("the stored %s's spec.userInfo is %q in groups %v; want the requester %q", kind, u.Username, u.Groups, want)
	}
}

func decodeIdentity(h string) (*osb.UserInfo, error) {
	platform, enc, ok := strings.Cut(h, " ")
	if !ok || platform != osb.Platform {
		return nil, fmt.Errorf("want %q and base64 JSON", osb.Platform)
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, err
	}
	u := &osb.UserInfo{}
	return u, json.Unmarshal(raw, u)
}

func hasGroup(groups []string, g string) bool {
	for _, x := range groups {
		if x == g {
			return true
		}
	}
	return false
}
