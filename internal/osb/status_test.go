package osb_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// TestSuccessStatuses covers the 200/201/202 answers of every operation.
func TestSuccessStatuses(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	c := connect(t, b)
	ctx := t.Context()

	cat, err := c.GetCatalog(ctx)
	if err != nil || cat.StatusCode != http.StatusOK || len(cat.Services) != 1 || cat.Services[0].Plans[0].Name != "duck" {
		t.Fatalf("GetCatalog = %+v, %v", cat, err)
	}

	p, err := c.ProvisionInstance(ctx, provisionReq("i1"))
	if err != nil || p.StatusCode != http.StatusCreated || p.Async() || p.DashboardURL == "" {
		t.Fatalf("first provision = %+v, %v; want sync 201 with dashboard", p, err)
	}
	p, err = c.ProvisionInstance(ctx, provisionReq("i1"))
	if err != nil || p.StatusCode != http.StatusOK {
		t.Fatalf("identical provision = %+v, %v; want 200", p, err)
	}

	b.On(testbroker.Rule{Operation: osb.OpProvision, Async: true, OperationKey: "create-i2"})
	p, err = c.ProvisionInstance(ctx, provisionReq("i2"))
	if err != nil || !p.Async() || p.Operation != "create-i2" || p.DashboardURL == "" {
		t.Fatalf("async provision = %+v, %v; want 202 with operation and dashboard", p, err)
	}

	u, err := c.UpdateInstance(ctx, &osb.UpdateRequest{InstanceID: "i1", ServiceID: testbroker.SeedServiceID, Parameters: map[string]any{"a": 1.0}})
	if err != nil || u.StatusCode != http.StatusOK {
		t.Fatalf("update = %+v, %v", u, err)
	}
	if got := mustInstance(t, b, "i1").Parameters["a"]; got != 1.0 {
		t.Errorf("broker parameters after update = %v", got)
	}

	bd, err := c.Bind(ctx, bindReq("i1", "b1"))
	if err != nil || bd.StatusCode != http.StatusCreated || bd.Credentials["password"] != b.Credentials("b1")["password"] {
		t.Fatalf("bind = %+v, %v; want 201 with the issued credentials", bd, err)
	}
	g, err := c.GetBinding(ctx, &osb.GetBindingRequest{InstanceID: "i1", BindingID: "b1"})
	if err != nil || g.Credentials["username"] == "" {
		t.Fatalf("get binding = %+v, %v", g, err)
	}
	gi, err := c.GetInstance(ctx, &osb.GetInstanceRequest{InstanceID: "i1"})
	if err != nil || gi.PlanID != testbroker.SeedPlanID || gi.Parameters["a"] != 1.0 {
		t.Fatalf("get instance = %+v, %v", gi, err)
	}

	if ub, err := c.Unbind(ctx, unbindReq("i1", "b1")); err != nil || ub.StatusCode != http.StatusOK {
		t.Fatalf("unbind = %+v, %v", ub, err)
	}
	if d, err := c.DeprovisionInstance(ctx, deprovisionReq("i1")); err != nil || d.StatusCode != http.StatusOK {
		t.Fatalf("deprovision = %+v, %v", d, err)
	}
}

// TestErrorStatuses drives every failure status through the client and
// checks that exactly the matching predicates recognise it.
func TestErrorStatuses(t *testing.T) {
	provision := func(ctx context.Context, c *osb.Client) error {
		_, err := c.ProvisionInstance(ctx, provisionReq("i1"))
		return err
	}
	tests := []struct {
		name   string
		rule   testbroker.Rule
		call   func(context.Context, *osb.Client) error
		status int
		want   []string
	}{
		{"400", testbroker.Rule{Status: 400, Description: "bad parameter"}, provision, 400, []string{"BadRequest"}},
		{"409 differing provision", testbroker.Rule{}, func(ctx context.Context, c *osb.Client) error {
			r := provisionReq("existing")
			r.Parameters = map[string]any{"different": true}
			_, err := c.ProvisionInstance(ctx, r)
			return err
		}, 409, []string{"Conflict"}},
		{"410 unknown deprovision", testbroker.Rule{}, func(ctx context.Context, c *osb.Client) error {
			_, err := c.DeprovisionInstance(ctx, deprovisionReq("nope"))
			return err
		}, 410, []string{"Gone"}},
		{"410 unknown unbind", testbroker.Rule{}, func(ctx context.Context, c *osb.Client) error {
			_, err := c.Unbind(ctx, unbindReq("existing", "nope"))
			return err
		}, 410, []string{"Gone"}},
		{"404 get instance", testbroker.Rule{}, func(ctx context.Context, c *osb.Client) error {
			_, err := c.GetInstance(ctx, &osb.GetInstanceRequest{InstanceID: "nope"})
			return err
		}, 404, []string{"NotFound"}},
		{"412", testbroker.Rule{Status: 412}, provision, 412, []string{"PreconditionFailed"}},
		{"422 AsyncRequired", testbroker.Rule{Status: 422, ErrorCode: osb.ErrorCodeAsyncRequired}, provision, 422, []string{"UnprocessableEntity", "AsyncRequired"}},
		{"422 AsyncRequired from broker", testbroker.Rule{Async: true}, func(ctx context.Context, c *osb.Client) error {
			r := provisionReq("i1")
			r.AcceptsIncomplete = false
			_, err := c.ProvisionInstance(ctx, r)
			return err
		}, 422, []string{"UnprocessableEntity", "AsyncRequired"}},
		{"422 ConcurrencyError", testbroker.Rule{Status: 422, ErrorCode: osb.ErrorCodeConcurrencyError}, provision, 422, []string{"UnprocessableEntity", "ConcurrencyError"}},
		{"422 RequiresApp", testbroker.Rule{Status: 422, ErrorCode: osb.ErrorCodeRequiresApp}, func(ctx context.Context, c *osb.Client) error {
			_, err := c.Bind(ctx, bindReq("existing", "b1"))
			return err
		}, 422, []string{"UnprocessableEntity", "RequiresApp"}},
		{"422 MaintenanceInfoConflict", testbroker.Rule{Status: 422, ErrorCode: osb.ErrorCodeMaintenanceInfoConflict}, provision, 422, []string{"UnprocessableEntity", "MaintenanceInfoConflict"}},
		{"422 unknown code", testbroker.Rule{Status: 422, ErrorCode: "SomethingNew"}, provision, 422, []string{"UnprocessableEntity"}},
		{"500", testbroker.Rule{Status: 500}, provision, 500, []string{"ServerError"}},
		{"503", testbroker.Rule{Status: 503, RetryAfter: "5"}, provision, 503, []string{"ServerError"}},
		{"204 on provision", testbroker.Rule{Status: 204}, provision, 204, []string{"UnexpectedSuccess"}},
		{"201 malformed", testbroker.Rule{Malformed: true}, provision, 201, []string{"MalformedResponse"}},
		{"200 malformed catalog", testbroker.Rule{Malformed: true}, func(ctx context.Context, c *osb.Client) error {
			_, err := c.GetCatalog(ctx)
			return err
		}, 200, []string{"MalformedResponse"}},
		{"wrong type in body", testbroker.Rule{Body: []byte(`{"services":"many"}`)}, func(ctx context.Context, c *osb.Client) error {
			_, err := c.GetCatalog(ctx)
			return err
		}, 200, []string{"MalformedResponse"}},
		{"unknown last_operation state", testbroker.Rule{Body: []byte(`{"state":"sleeping"}`)}, func(ctx context.Context, c *osb.Client) error {
			_, err := c.PollLastOperation(ctx, &osb.LastOperationRequest{InstanceID: "existing"})
			return err
		}, 200, []string{"MalformedResponse"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := testbroker.Start(t, testbroker.Options{})
			c := connect(t, b)
			if _, err := c.ProvisionInstance(t.Context(), provisionReq("existing")); err != nil {
				t.Fatal(err)
			}
			b.On(tt.rule)
			err := tt.call(t.Context(), c)
			assertOnly(t, err, tt.want...)
			if got := osb.StatusCodeOf(err); got != tt.status {
				t.Errorf("StatusCodeOf = %d, want %d", got, tt.status)
			}
		})
	}
}

func TestHTTPErrorFields(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	c := connect(t, b)
	b.On(testbroker.Rule{Body: []byte(`{"error":"Oops","description":"disk full","instance_usable":true,"update_repeatable":false,"extra":1}`), Status: 500, RetryAfter: "30"})
	_, err := c.UpdateInstance(t.Context(), &osb.UpdateRequest{InstanceID: "i1", ServiceID: testbroker.SeedServiceID})
	var h *osb.HTTPError
	if !errors.As(err, &h) {
		t.Fatalf("err = %v, want *HTTPError", err)
	}
	if h.StatusCode != 500 || h.ErrorCode != "Oops" || h.Description != "disk full" ||
		h.InstanceUsable == nil || !*h.InstanceUsable || h.UpdateRepeatable == nil || *h.UpdateRepeatable ||
		h.Operation != osb.OpUpdate || h.RetryAfter.Seconds() != 30 {
		t.Errorf("HTTPError = %+v", h)
	}
	if h.RequestIdentity != b.Requests()[0].Header.Get("X-Broker-API-Request-Identity") {
		t.Errorf("error identity %q does not match the request's", h.RequestIdentity)
	}
}

func TestWrongCredentials(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	c := connect(t, b, func(c *osb.Config) { c.Password = "wrong" })
	_, err := c.GetCatalog(t.Context())
	assertOnly(t, err, "Unauthorized")
}

func TestBearerAuth(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{Auth: testbroker.Auth{BearerToken: "tok-123"}})
	bearer := func(tok string) func(*osb.Config) {
		return func(c *osb.Config) { c.Username, c.Password, c.BearerToken = "", "", tok }
	}
	if _, err := connect(t, b, bearer("tok-123")).GetCatalog(t.Context()); err != nil {
		t.Fatalf("right token: %v", err)
	}
	_, err := connect(t, b, bearer("tok-456")).GetCatalog(t.Context())
	assertOnly(t, err, "Unauthorized")
	_, err = connect(t, b).GetCatalog(t.Context())
	assertOnly(t, err, "Unauthorized")
}

func mustInstance(t *testing.T, b *testbroker.Broker, id string) testbroker.Instance {
	t.Helper()
	i, ok := b.Instance(id)
	if !ok {
		t.Fatalf("broker has no instance %q", id)
	}
	return i
}

func TestEmptyIDRejected(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	if _, err := connect(t, b).Bind(t.Context(), bindReq("i1", "")); err == nil {
		t.Fatal("bind with an empty binding ID was sent")
	}
	if len(b.Requests()) != 0 {
		t.Error("a request reached the broker")
	}
}
