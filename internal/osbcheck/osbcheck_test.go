package osbcheck_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/osbcheck"
	"github.com/svcat-io/svcat/internal/testbroker"
)

const asyncPlanID = "osb-check-async-plan"

func ptr[T any](v T) *T { return &v }

// catalog is the seed catalog plus offerings that reach every check:
// retrievable instances and bindings, an updateable two-plan offering and an
// asynchronous plan.
func catalog() []osb.Service {
	schema := &osb.Schemas{ServiceInstance: &osb.ServiceInstanceSchema{Create: &osb.InputParametersSchema{
		Parameters: map[string]any{"$schema": "http://json-schema.org/draft-04/schema#", "type": "object"},
	}}}
	return append(testbroker.SeedCatalog(),
		osb.Service{ID: "osb-check-full", Name: "full", Description: "every optional feature", Bindable: true,
			InstancesRetrievable: true, BindingsRetrievable: true, PlanUpdateable: true,
			Plans: []osb.Plan{
				{ID: "osb-check-small", Name: "small", Description: "small", Schemas: schema,
					MaintenanceInfo: &osb.MaintenanceInfo{Version: "1.0.0"}, MaximumPollingDuration: ptr(60), BindingRotatable: true},
				{ID: "osb-check-large", Name: "large", Description: "large"},
			}},
		osb.Service{ID: "osb-check-slow", Name: "slow", Description: "asynchronous", Bindable: true,
			Plans: []osb.Plan{{ID: asyncPlanID, Name: "async", Description: "answers 202"}}},
	)
}

func start(t *testing.T, cat []osb.Service, faults ...testbroker.Fault) *testbroker.Broker {
	t.Helper()
	b := testbroker.Start(t, testbroker.Options{Catalog: cat, Faults: faults})
	b.On(testbroker.Rule{PlanID: asyncPlanID, Async: true, AsyncPolls: 1, RetryAfter: "0"})
	return b
}

func run(t *testing.T, b *testbroker.Broker) *osbcheck.Report {
	t.Helper()
	rep, err := osbcheck.Run(context.Background(), osbcheck.Config{
		URL: b.URL(), Username: testbroker.DefaultUsername, Password: testbroker.DefaultPassword,
		Timeout: 5 * time.Second, PollTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func text(rep *osbcheck.Report) string {
	var b strings.Builder
	_ = rep.WriteText(&b)
	return b.String()
}

func TestCleanTestBrokerPassesEveryCheck(t *testing.T) {
	b := start(t, catalog())
	rep := run(t, b)
	if ids := rep.FailedIDs(); len(ids) > 0 || rep.Failed() {
		t.Fatalf("failed checks %v:\n%s", ids, text(rep))
	}
	for _, res := range rep.Results {
		if res.Status == osbcheck.Skip && strings.HasPrefix(res.Detail, "not exercised") {
			t.Errorf("check %s was never exercised", res.ID)
		}
	}
	if n := len(b.Instances()); n != 0 {
		t.Errorf("%d instances left on the broker", n)
	}
}

// TestEachFaultFailsItsCheckOnly shows that every check can fail: the
// broker breaks one rule and the checker reports exactly that check.
func TestEachFaultFailsItsCheckOnly(t *testing.T) {
	badCatalog := func(edit func(c []osb.Service)) []osb.Service {
		c := catalog()
		edit(c)
		return c
	}
	cases := []struct {
		check   string
		fault   testbroker.Fault
		catalog []osb.Service
		rule    *testbroker.Rule
	}{
		{check: "catalog.required-fields", catalog: badCatalog(func(c []osb.Service) { c[1].Plans[1].Description = "" })},
		{check: "catalog.unique-ids", catalog: badCatalog(func(c []osb.Service) { c[2].Plans[0].ID = c[0].Plans[0].ID })},
		{check: "catalog.unique-names", catalog: badCatalog(func(c []osb.Service) { c[1].Plans[1].Name = "small" })},
		{check: "catalog.cli-names", catalog: badCatalog(func(c []osb.Service) { c[2].Name = "Slow Service" })},
		{check: "catalog.schemas", catalog: badCatalog(func(c []osb.Service) {
			c[1].Plans[0].Schemas.ServiceInstance.Create.Parameters = map[string]any{"type": 5}
		})},
		{check: "catalog.schemas", catalog: badCatalog(func(c []osb.Service) {
			c[1].Plans[0].Schemas.ServiceInstance.Create.Parameters = map[string]any{"$ref": "file:///etc/passwd"}
		})},
		{check: "catalog.maintenance-info", catalog: badCatalog(func(c []osb.Service) { c[1].Plans[0].MaintenanceInfo.Version = "1.0" })},
		{check: "catalog.maximum-polling-duration", catalog: badCatalog(func(c []osb.Service) { c[1].Plans[0].MaximumPollingDuration = ptr(0) })},
		{check: "catalog.fetch", rule: &testbroker.Rule{Operation: osb.OpGetCatalog, Body: []byte(`{"service":[]}`)}},
		{check: "catalog.field-types", rule: &testbroker.Rule{Operation: osb.OpGetCatalog,
			Body: []byte(`{"services":[{"id":"s","name":"s","description":"s","bindable":"yes","plans":[{"id":"p","name":"p","description":"p"}]}]}`)}},
		{check: "version.missing", fault: testbroker.FaultAcceptMissingVersion},
		{check: "version.unsupported", fault: testbroker.FaultAcceptOldVersion},
		{check: "auth.missing", fault: testbroker.FaultAcceptMissingAuth},
		{check: "auth.wrong", fault: testbroker.FaultAcceptWrongAuth},
		{check: "auth.www-authenticate", fault: testbroker.FaultNoWWWAuthenticate},
		{check: "identity.request-echo", fault: testbroker.FaultNoRequestIdentityEcho},
		{check: "identity.originating", fault: testbroker.FaultRejectOriginating},
		{check: "errors.body", fault: testbroker.FaultErrorBodyMessage},
		{check: "provision.async-required", fault: testbroker.FaultAsyncWithoutIncomplete},
		{check: "provision.create", fault: testbroker.FaultProvisionNewOK},
		{check: "provision.create", rule: &testbroker.Rule{Operation: osb.OpProvision, PlanID: asyncPlanID, Async: true, AsyncPolls: 1,
			OperationKey: strings.Repeat("o", 10001)}},
		{check: "provision.create", rule: &testbroker.Rule{Operation: osb.OpProvision, PlanID: "osb-check-small", Times: 2,
			Body: []byte(`{"dashboard_url": 5}`)}},
		{check: "bind.create", rule: &testbroker.Rule{Operation: osb.OpBind, PlanID: asyncPlanID, Times: 1, Async: true,
			OperationKey: "op-bind", Body: []byte(`{"operation": "op-bind", "credentials": {}}`)}},
		{check: "bind.create", rule: &testbroker.Rule{Operation: osb.OpBind, PlanID: "osb-check-small", Times: 1,
			Body: []byte(`{"credentials": "secret"}`)}},
		{check: "provision.identical", fault: testbroker.FaultProvisionIdentical409},
		{check: "provision.repeat-in-progress", fault: testbroker.FaultInProgressRepeat409},
		{check: "provision.conflict", fault: testbroker.FaultProvisionConflictOK},
		{check: "provision.malformed", fault: testbroker.FaultMalformed422},
		{check: "provision.non-object", fault: testbroker.FaultNonObject422},
		{check: "provision.missing-field", fault: testbroker.FaultAcceptMissingPlanID},
		{check: "provision.empty-field", fault: testbroker.FaultAcceptEmptyServiceID},
		{check: "provision.empty-context", fault: testbroker.FaultAcceptEmptyContext},
		{check: "provision.unknown-service", fault: testbroker.FaultUnknownService404},
		{check: "provision.unknown-plan", fault: testbroker.FaultUnknownPlan422},
		{check: "last-operation.poll", fault: testbroker.FaultPollProvisionState},
		{check: "last-operation.retry-after", fault: testbroker.FaultBadRetryAfter},
		{check: "last-operation.unknown", fault: testbroker.FaultLastOperationUnknown410},
		{check: "instance.get", fault: testbroker.FaultGetInstanceNotFound},
		{check: "instance.get-unknown", fault: testbroker.FaultGetUnknownInstance410},
		{check: "update.parameters", fault: testbroker.FaultUpdateCreated},
		{check: "update.plan", fault: testbroker.FaultPlanChange422},
		{check: "update.missing-service-id", fault: testbroker.FaultUpdateNoServiceID},
		{check: "update.unknown-plan", fault: testbroker.FaultUpdateUnknownPlan500},
		{check: "bind.create", fault: testbroker.FaultBindNewOK},
		{check: "bind.identical", fault: testbroker.FaultBindIdentical201},
		{check: "bind.conflict", fault: testbroker.FaultBindConflictOK},
		{check: "bind.missing-field", fault: testbroker.FaultBindAcceptMissingPlanID},
		{check: "bind.last-operation", fault: testbroker.FaultPollBindState},
		{check: "bind.unknown-plan", fault: testbroker.FaultBindUnknownPlan422},
		{check: "binding.last-operation-unknown", fault: testbroker.FaultBindingLastOpUnknown410},
		{check: "binding.get", fault: testbroker.FaultBindCredentialsString},
		{check: "binding.get-unknown", fault: testbroker.FaultGetUnknownBinding410},
		{check: "unbind.delete", fault: testbroker.FaultUnbindCreated},
		{check: "unbind.missing-field", fault: testbroker.FaultUnbindNoServiceID},
		{check: "unbind.unknown", fault: testbroker.FaultUnbindUnknown404},
		{check: "deprovision.delete", fault: testbroker.FaultDeprovisionCreated},
		{check: "deprovision.missing-field", fault: testbroker.FaultDeprovisionNoServiceID},
		{check: "deprovision.unknown", fault: testbroker.FaultDeprovisionUnknown404},
		{check: "maintenance-info.conflict", fault: testbroker.FaultIgnoreMaintenanceInfo},
		{check: "bind.rotate", fault: testbroker.FaultRejectPredecessor},
		{check: "bind.expiry-metadata", rule: &testbroker.Rule{Operation: osb.OpBind, PlanID: "osb-check-small", Times: 1,
			Body: []byte(`{"credentials": {}, "metadata": {"expires_at": "tomorrow"}}`)}},
		{check: "bind.expiry-metadata", rule: &testbroker.Rule{Operation: osb.OpBind, PlanID: "osb-check-small", Times: 1,
			Body: []byte(`{"credentials": {}, "metadata": {"expires_at": "2030-01-01T00:00:00Z", "renew_before": "2031-01-01T00:00:00Z"}}`)}},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.check] = true
		t.Run(tc.check, func(t *testing.T) {
			t.Parallel()
			cat := tc.catalog
			if cat == nil {
				cat = catalog()
			}
			var faults []testbroker.Fault
			if tc.fault != "" {
				faults = append(faults, tc.fault)
			}
			b := start(t, cat, faults...)
			if tc.rule != nil {
				b.On(*tc.rule)
			}
			rep := run(t, b)
			if got := rep.FailedIDs(); !slices.Equal(got, []string{tc.check}) {
				t.Errorf("failed checks %v, want only %s:\n%s", got, tc.check, text(rep))
			}
		})
	}
	// A MUST check that no case makes fail is not proven.
	for _, c := range osbcheck.Checks {
		if c.Force == osbcheck.Must && !covered[c.ID] {
			t.Errorf("no fault makes MUST check %s fail", c.ID)
		}
	}
}

// TestInterruptedRunCleansUp ends the run while a provision is in progress,
// as Ctrl-C does: what was created is removed all the same.
func TestInterruptedRunCleansUp(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{Catalog: catalog()})
	b.On(testbroker.Rule{Operation: osb.OpProvision, PlanID: asyncPlanID, AsyncDelay: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rep, err := osbcheck.Run(ctx, osbcheck.Config{
		URL: b.URL(), Username: testbroker.DefaultUsername, Password: testbroker.DefaultPassword,
		Plans: []string{"async"}, Timeout: 5 * time.Second, PollTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Aborted == "" || !rep.Failed() {
		t.Errorf("an interrupted run must say so and fail; report:\n%s", text(rep))
	}
	if len(rep.Leftovers) != 0 || len(b.Instances()) != 0 {
		t.Errorf("leftovers %v, instances on the broker %v", rep.Leftovers, b.Instances())
	}
}

// TestLeftoversAreListed: a broker that cannot deprovision leaves instances
// behind, and the report names each with its IDs.
func TestLeftoversAreListed(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{Catalog: catalog()})
	b.On(testbroker.Rule{Operation: osb.OpDeprovision, Status: 500, Description: "down"})
	rep := run(t, b)
	left := b.Instances()
	if len(left) == 0 || len(rep.Leftovers) != len(left) {
		t.Fatalf("broker keeps %d instances, report lists %v", len(left), rep.Leftovers)
	}
	for _, l := range rep.Leftovers {
		if _, ok := b.Instance(l.InstanceID); !ok || l.Kind != "instance" || l.ServiceID == "" || l.PlanID == "" {
			t.Errorf("leftover %+v does not name an instance the broker keeps", l)
		}
	}
	if !rep.Failed() {
		t.Error("a run that leaves instances behind must fail")
	}
}

// TestTimedOutRequestsAreCleanedUp: a broker that does the work and then
// never answers leaves nothing behind either.
func TestTimedOutRequestsAreCleanedUp(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{Catalog: catalog()})
	b.On(testbroker.Rule{Operation: osb.OpBind, Hang: time.Minute, Times: 1})
	rep, err := osbcheck.Run(context.Background(), osbcheck.Config{
		URL: b.URL(), Username: testbroker.DefaultUsername, Password: testbroker.DefaultPassword,
		Plans: []string{"small"}, Timeout: 500 * time.Millisecond, PollTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if ids := rep.FailedIDs(); !slices.Contains(ids, "bind.create") {
		t.Errorf("failed checks %v, want bind.create among them:\n%s", ids, text(rep))
	}
	if len(rep.Leftovers) != 0 || len(b.Instances()) != 0 || len(b.Bindings()) != 0 {
		t.Errorf("leftovers %v; on the broker: instances %v, bindings %v", rep.Leftovers, b.Instances(), b.Bindings())
	}
	// The hung binding is unbound, not left to the deprovision: a broker
	// may refuse to deprovision an instance that still has bindings.
	hung, unbound := "", map[string]bool{}
	for _, r := range b.Requests() {
		switch {
		case r.Operation == osb.OpBind && hung == "":
			hung = r.BindingID
		case r.Operation == osb.OpUnbind:
			unbound[r.BindingID] = true
		}
	}
	if hung == "" || !unbound[hung] {
		t.Errorf("the binding whose answer timed out (%q) was never unbound:\n%s", hung, text(rep))
	}
}

// TestReportRedactsCredentials: a failure that quotes a bind answer does not
// print the credentials in it, nor the broker's control characters.
func TestReportRedactsCredentials(t *testing.T) {
	b := start(t, catalog(), testbroker.FaultBindConflictOK)
	rep := run(t, b)
	out := text(rep)
	if !strings.Contains(out, "bind.conflict") {
		t.Fatalf("the fault was not reported:\n%s", out)
	}
	for _, bd := range b.Bindings() {
		t.Fatalf("binding %s left behind", bd.ID)
	}
	for _, r := range b.Requests() {
		if r.Operation != osb.OpBind {
			continue
		}
		if pw, _ := b.Credentials(r.BindingID)["password"].(string); pw != "" && strings.Contains(out, pw) {
			t.Errorf("the report shows binding %s's password:\n%s", r.BindingID, out)
		}
	}
}
