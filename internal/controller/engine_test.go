package controller_test

import (
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
