package tenancy

import (
	"context"
	"testing"
	"time"

	"github.com/svcat-io/svcat/internal/testbroker"
)

// The harness itself: the controller, running as its ServiceAccount with
// the shipped RBAC only, serves a tenant's own broker and instance. Every
// attack test relies on this; when it fails, the attacks prove nothing.
func TestHarnessServesATenant(t *testing.T) {
	c := setup(t)
	c.startController(t, 0)
	alice := c.newTenant(t, "alice")
	b := testbroker.Start(t, testbroker.Options{})
	alice.createBroker(t, "own", b.URL(), testbroker.DefaultUsername, testbroker.DefaultPassword)
	must(t, alice.c.Create(context.Background(), namespacedInstance(alice.ns, "db", "cloudkarafka", "duck")))
	waitFor(t, time.Minute, "alice's instance Ready", instanceReady(alice.c, alice.ns, "db"))
}
