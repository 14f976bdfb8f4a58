package osb_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/svcat-io/svcat/internal/brokertext"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// hostileDescription is a 1 MiB description of the kind a broker that
// quotes its records would send: other tenants' passwords, one per line.
func hostileDescription() string {
	return strings.Repeat("conflict with\n{\"password\": \"victim-SECRET\", \"uri\": \"kafka://u:victim-SECRET@h\"}\n", 1<<20/80)
}

// Broker text enters the controller bounded, on one line and without what
// looks like a credential, whatever the status and wherever it sits.
func TestBrokerTextIsCleanedWhereItEnters(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	c := connect(t, b)
	desc := hostileDescription()
	check := func(what, text string) {
		t.Helper()
		if len(text) > brokertext.MaxBytes+200 || strings.Contains(text, "victim-SECRET") || strings.ContainsAny(text, "\n\r") {
			t.Errorf("%s: %d bytes, %q", what, len(text), text[:min(len(text), 300)])
		}
	}
	for _, status := range []int{400, 409, 422, 500} {
		b.On(testbroker.Rule{Operation: osb.OpProvision, Status: status, ErrorCode: strings.Repeat("Code\n", 1000), Description: desc, Times: 1})
		_, err := c.ProvisionInstance(t.Context(), provisionReq("i"))
		var he *osb.HTTPError
		if !errors.As(err, &he) {
			t.Fatalf("status %d: %v", status, err)
		}
		check("description", he.Description)
		check("error code", he.ErrorCode)
		check("error", err.Error())
	}

	b.On(testbroker.Rule{Operation: osb.OpProvision, Async: true, AsyncFail: true, Description: desc})
	resp, err := c.ProvisionInstance(t.Context(), provisionReq("async"))
	if err != nil {
		t.Fatal(err)
	}
	lo, err := c.PollLastOperation(t.Context(), &osb.LastOperationRequest{InstanceID: "async", ServiceID: testbroker.SeedServiceID, PlanID: testbroker.SeedPlanID, Operation: resp.Operation})
	if err != nil {
		t.Fatal(err)
	}
	if lo.State != osb.StateFailed {
		t.Fatalf("state %q", lo.State)
	}
	check("last_operation description", lo.Description)
}
