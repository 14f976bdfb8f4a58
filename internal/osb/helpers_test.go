package osb_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// connect returns a client for b with the broker's default credentials and
// CA, adjusted by edit.
func connect(t *testing.T, b *testbroker.Broker, edit ...func(*osb.Config)) *osb.Client {
	t.Helper()
	cfg := osb.Config{
		URL: b.URL(), Username: testbroker.DefaultUsername, Password: testbroker.DefaultPassword,
		CABundle: b.CAPEM(),
	}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := osb.New(cfg)
	if err != nil {
		t.Fatalf("osb.New: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func provisionReq(id string) *osb.ProvisionRequest {
	return &osb.ProvisionRequest{
		InstanceID: id, ServiceID: testbroker.SeedServiceID, PlanID: testbroker.SeedPlanID,
		OrganizationGUID: "cluster-1", SpaceGUID: "default", AcceptsIncomplete: true,
		Context: &osb.Context{Platform: osb.Platform, Namespace: "default", ClusterID: "cluster-1", InstanceName: "demo-kafka"},
	}
}

func bindReq(instanceID, bindingID string) *osb.BindRequest {
	return &osb.BindRequest{
		InstanceID: instanceID, BindingID: bindingID, AcceptsIncomplete: true,
		ServiceID: testbroker.SeedServiceID, PlanID: testbroker.SeedPlanID,
	}
}

func deprovisionReq(id string) *osb.DeprovisionRequest {
	return &osb.DeprovisionRequest{InstanceID: id, ServiceID: testbroker.SeedServiceID, PlanID: testbroker.SeedPlanID, AcceptsIncomplete: true}
}

func unbindReq(instanceID, bindingID string) *osb.UnbindRequest {
	return &osb.UnbindRequest{
		InstanceID: instanceID, BindingID: bindingID, AcceptsIncomplete: true,
		ServiceID: testbroker.SeedServiceID, PlanID: testbroker.SeedPlanID,
	}
}

var predicates = map[string]func(error) bool{
	"BadRequest":              osb.IsBadRequest,
	"Unauthorized":            osb.IsUnauthorized,
	"NotFound":                osb.IsNotFound,
	"Conflict":                osb.IsConflict,
	"Gone":                    osb.IsGone,
	"PreconditionFailed":      osb.IsPreconditionFailed,
	"UnprocessableEntity":     osb.IsUnprocessableEntity,
	"AsyncRequired":           osb.IsAsyncRequired,
	"ConcurrencyError":        osb.IsConcurrencyError,
	"RequiresApp":             osb.IsRequiresApp,
	"MaintenanceInfoConflict": osb.IsMaintenanceInfoConflict,
	"ServerError":             osb.IsServerError,
	"UnexpectedSuccess":       osb.IsUnexpectedSuccess,
	"MalformedResponse":       osb.IsMalformedResponse,
	"ResponseTooLarge":        osb.IsResponseTooLarge,
	"CatalogLimit":            osb.IsCatalogLimit,
	"Timeout":                 osb.IsTimeout,
	"Unreachable":             osb.IsUnreachable,
	"TLSError":                osb.IsTLSError,
	"Interrupted":             osb.IsInterrupted,
}

// assertOnly checks that exactly the named predicates hold for err, so each
// failure is recognisable by its own predicate and no other.
func assertOnly(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", want)
	}
	var got []string
	for name, is := range predicates {
		if is(err) {
			got = append(got, name)
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("error %q satisfies %v, want exactly %v", err, got, want)
	}
	if osb.RequestIdentityOf(err) == "" {
		t.Errorf("error %q carries no request identity", err)
	}
}
