package controller_test

import (
	"context"
	"strings"
	"testing"
	"time"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// The tests below each caught a place where the binding's copy of the OSB
// operation lifecycle had drifted from the instance's, before both used
// internal/controller/brokerop.

// A poll of a binding's operation that fails is reported in Ready
// (ErrorPollingLastOperation), as an instance's is; the binding's copy only
// returned the error, so Ready kept saying "Binding".
func TestBindingPollErrorIsReported(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "bindpollerr")
	f.instance("db", "kafka", "small", nil)
	f.ready("db")
	f.broker.On(testbroker.Rule{Operation: osb.OpBind, BindingID: f.id("b"), Async: true, AsyncDelay: time.Minute})
	f.broker.On(testbroker.Rule{Operation: osb.OpPollBindingLastOperation, BindingID: f.id("b"), Status: 500, Description: "the poll broke"})
	f.binding("b", "db", nil)
	b := waitBinding(t, f.c, f.ns, "b", bindingCondition(scv1beta1.ServiceBindingConditionReady, "False", scv1beta1.ReasonErrorPollingLastOperation))
	if msg := b.Status.GetCondition(scv1beta1.ServiceBindingConditionReady).Message; !strings.HasPrefix(msg, scv1beta1.MessageErrorPollingLastOperation) || !strings.Contains(msg, "the poll broke") {
		t.Errorf("Ready message %q", msg)
	}
}

// An unbind counts the plan's maximum_polling_duration from its own start.
// The binding's copy kept the start of a bind that failed before it, so a
// binding deleted more than maximum_polling_duration after its bind began
// had every unbind time out before its first poll, forever; the
// instance's deprovision starts its own clock.
func TestUnbindCountsFromItsOwnStart(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "unbindstart")
	f.instance("db", "kafka", "slow", nil) // maximum_polling_duration 2s
	f.ready("db")
	// The bind fails in a way that is retried, so its start stays
	// recorded; the broker made the binding all the same, so the unbind
	// is answered asynchronously rather than 410.
	f.broker.On(testbroker.Rule{Operation: osb.OpBind, BindingID: f.id("late"), Status: 404, ApplyFirst: true})
	b := f.binding("late", "db", nil)
	waitBinding(t, f.c, f.ns, "late", bindingCondition(scv1beta1.ServiceBindingConditionReady, "False", scv1beta1.ReasonBindCallFailed))
	time.Sleep(2500 * time.Millisecond) // past the bind's maximum_polling_duration
	f.broker.On(testbroker.Rule{Operation: osb.OpUnbind, BindingID: f.id("late"), Async: true, AsyncPolls: 1})
	if err := f.c.Delete(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	waitGone(t, f.c, b)
	if ops := f.bindOps(f.id("late")); strings.Count(ops, "unbind") != 1 {
		t.Errorf("broker saw %s; want one unbind", ops)
	}
}

// An asynchronous unbind the broker reports failed is reported in Ready
// (UnbindCallFailed, with the broker's description) before it is sent
// again, as a failed deprovision is; the binding's copy only returned an
// error.
func TestFailedAsyncUnbindIsReported(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "unbindfail")
	f.instance("db", "kafka", "small", nil)
	f.ready("db")
	b := f.binding("b", "db", nil)
	f.bindingReady("b")
	f.broker.On(testbroker.Rule{Operation: osb.OpUnbind, BindingID: f.id("b"), Async: true, AsyncFail: true, Description: "disk on fire", Times: 1})
	if err := f.c.Delete(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if note := f.waitEvent(scv1beta1.ReasonUnbindCallFailed); !strings.Contains(note, "disk on fire") || !strings.HasSuffix(note, "; retrying") {
		t.Errorf("UnbindCallFailed event %q", note)
	}
	waitGone(t, f.c, b) // the second unbind succeeds
}

// A 410 to the poll of a bind means the broker no longer knows the binding
// it was making: the bind failed, and what it may have made is unbound, as
// for an instance's provision. The binding's copy polled again forever.
func TestBindingPollGoneFailsTheBind(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "bindpoll410")
	f.instance("db", "kafka", "small", nil)
	f.ready("db")
	f.broker.On(testbroker.Rule{Operation: osb.OpBind, BindingID: f.id("gone"), Async: true, AsyncDelay: time.Minute})
	f.broker.On(testbroker.Rule{Operation: osb.OpPollBindingLastOperation, BindingID: f.id("gone"), Status: 410, Times: 1})
	f.binding("gone", "db", nil)
	b := waitBinding(t, f.c, f.ns, "gone", bindingCondition(scv1beta1.ServiceBindingConditionFailed, "True", scv1beta1.ReasonBindCallFailed))
	if msg := b.Status.GetCondition(scv1beta1.ServiceBindingConditionFailed).Message; !strings.Contains(msg, "no longer knows the binding (HTTP 410)") {
		t.Errorf("Failed message %q", msg)
	}
	waitBinding(t, f.c, f.ns, "gone", bindingReason(scv1beta1.ReasonOrphanMitigationSuccessful))
	if ops := f.bindOps(f.id("gone")); ops != "bind,unbind" {
		t.Errorf("broker saw %s; want the bind and the orphan mitigation's unbind", ops)
	}
}
