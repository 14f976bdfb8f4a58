package osb_test

import (
	"testing"

	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// TestAsyncLifecycle walks an instance and a binding through asynchronous
// create and delete, polling as the controller will.
func TestAsyncLifecycle(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	c := connect(t, b)
	ctx := t.Context()
	b.On(testbroker.Rule{AsyncPolls: 1})

	p, err := c.ProvisionInstance(ctx, provisionReq("i1"))
	if err != nil || !p.Async() {
		t.Fatalf("provision = %+v, %v", p, err)
	}
	poll := &osb.LastOperationRequest{InstanceID: "i1", ServiceID: testbroker.SeedServiceID, PlanID: testbroker.SeedPlanID, Operation: p.Operation}
	for _, want := range []osb.LastOperationState{osb.StateInProgress, osb.StateSucceeded, osb.StateSucceeded} {
		if lo, err := c.PollLastOperation(ctx, poll); err != nil || lo.State != want {
			t.Fatalf("poll = %+v, %v; want %q", lo, err, want)
		}
	}

	bd, err := c.Bind(ctx, bindReq("i1", "b1"))
	if err != nil || !bd.Async() || bd.Credentials != nil {
		t.Fatalf("bind = %+v, %v; want 202 without credentials", bd, err)
	}
	if _, err := c.GetBinding(ctx, &osb.GetBindingRequest{InstanceID: "i1", BindingID: "b1"}); !osb.IsNotFound(err) {
		t.Fatalf("get binding while binding: %v, want 404", err)
	}
	bpoll := &osb.BindingLastOperationRequest{InstanceID: "i1", BindingID: "b1", Operation: bd.Operation}
	for _, want := range []osb.LastOperationState{osb.StateInProgress, osb.StateSucceeded} {
		if lo, err := c.PollBindingLastOperation(ctx, bpoll); err != nil || lo.State != want {
			t.Fatalf("binding poll = %+v, %v; want %q", lo, err, want)
		}
	}
	g, err := c.GetBinding(ctx, &osb.GetBindingRequest{InstanceID: "i1", BindingID: "b1"})
	if err != nil || g.Credentials["password"] != b.Credentials("b1")["password"] {
		t.Fatalf("get binding = %+v, %v", g, err)
	}

	ub, err := c.Unbind(ctx, unbindReq("i1", "b1"))
	if err != nil || !ub.Async() {
		t.Fatalf("unbind = %+v, %v", ub, err)
	}
	bpoll.Operation = ub.Operation
	c.PollBindingLastOperation(ctx, bpoll)
	c.PollBindingLastOperation(ctx, bpoll)
	if _, err := c.PollBindingLastOperation(ctx, bpoll); !osb.IsGone(err) {
		t.Fatalf("binding poll after unbind: %v, want 410", err)
	}

	d, err := c.DeprovisionInstance(ctx, deprovisionReq("i1"))
	if err != nil || !d.Async() {
		t.Fatalf("deprovision = %+v, %v", d, err)
	}
	poll.Operation = d.Operation
	if lo, err := c.PollLastOperation(ctx, poll); err != nil || lo.State != osb.StateInProgress {
		t.Fatalf("poll = %+v, %v", lo, err)
	}
	if lo, err := c.PollLastOperation(ctx, poll); err != nil || lo.State != osb.StateSucceeded {
		t.Fatalf("poll = %+v, %v", lo, err)
	}
	if _, err := c.PollLastOperation(ctx, poll); !osb.IsGone(err) {
		t.Fatalf("poll after deprovision: %v, want 410", err)
	}
}

func TestAsyncFailure(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	c := connect(t, b)
	b.On(testbroker.Rule{Operation: osb.OpProvision, Async: true, AsyncFail: true, Description: "no capacity"})
	p, err := c.ProvisionInstance(t.Context(), provisionReq("i1"))
	if err != nil {
		t.Fatal(err)
	}
	lo, err := c.PollLastOperation(t.Context(), &osb.LastOperationRequest{InstanceID: "i1", Operation: p.Operation})
	if err != nil || lo.State != osb.StateFailed || lo.Description != "no capacity" {
		t.Fatalf("poll = %+v, %v", lo, err)
	}
	if !osb.OrphanMitigationRequired(osb.OpProvision, osb.Outcome{AsyncFailed: true}) {
		t.Error("failed async provision must require orphan mitigation")
	}
	if got := mustInstance(t, b, "i1").State; got != testbroker.StateFailed {
		t.Errorf("broker instance state = %q, want failed (an orphan to clean up)", got)
	}
}
