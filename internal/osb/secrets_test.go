package osb_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// TestErrorsNeverContainCredentials provokes every kind of error with
// distinctive secrets in play and checks that no message repeats them.
func TestErrorsNeverContainCredentials(t *testing.T) {
	const (
		password = "pw-SECRET-1"
		token    = "tok-SECRET-2"
		issued   = "cred-SECRET-3"
	)
	secrets := []string{password, token, issued, base64.StdEncoding.EncodeToString([]byte("u:" + password))}
	creds := func(string, string) map[string]any { return map[string]any{"password": issued} }

	basic := testbroker.Start(t, testbroker.Options{Auth: testbroker.Auth{Username: "u", Password: password}, Credentials: creds})
	bearer := testbroker.Start(t, testbroker.Options{Auth: testbroker.Auth{BearerToken: token}, TLS: true, Credentials: creds})
	withBasic := func(c *osb.Config) { c.Username, c.Password = "u", password }
	withToken := func(c *osb.Config) { c.Username, c.Password, c.BearerToken = "", "", token }

	var errs []error
	collect := func(_ any, err error) {
		if err == nil {
			t.Fatal("expected an error")
		}
		errs = append(errs, err)
	}
	c := connect(t, basic, withBasic)
	if _, err := c.ProvisionInstance(t.Context(), provisionReq("i1")); err != nil {
		t.Fatal(err)
	}
	basic.On(testbroker.Rule{Operation: osb.OpBind, Malformed: true})
	collect(c.Bind(t.Context(), bindReq("i1", "b1")))
	basic.On(testbroker.Rule{Operation: osb.OpGetBinding, Body: []byte(`{"credentials": 12345 }`)})
	collect(c.GetBinding(t.Context(), &osb.GetBindingRequest{InstanceID: "i1", BindingID: "b1"}))
	basic.On(testbroker.Rule{Operation: osb.OpBind, Status: 500, Body: []byte(`not json ` + issued)})
	collect(c.Bind(t.Context(), bindReq("i1", "b2")))
	basic.On(testbroker.Rule{Operation: osb.OpGetCatalog, Hang: time.Minute})
	collect(connect(t, basic, withBasic, func(c *osb.Config) { c.Timeout = 20 * time.Millisecond }).GetCatalog(t.Context()))
	collect(connect(t, basic, func(c *osb.Config) { c.Password = password + "x" }).GetCatalog(t.Context()))
	collect(connect(t, bearer, withToken, func(c *osb.Config) { c.CABundle = nil }).GetCatalog(t.Context()))
	collect(connect(t, bearer, withToken, func(c *osb.Config) { c.BearerToken += "x" }).GetCatalog(t.Context()))
	bearer.Stop()
	collect(connect(t, bearer, withToken).GetCatalog(t.Context()))

	for _, err := range errs {
		msg := fmt.Sprintf("%v %+v %#v", err, err, err)
		for _, s := range secrets {
			if strings.Contains(msg, s) {
				t.Errorf("error %q contains secret %q", msg, s)
			}
		}
	}

	// Credentials in a successful response are redacted when printed.
	basic.ClearRules()
	bd, err := c.Bind(t.Context(), bindReq("i1", "b3"))
	if err != nil || bd.Credentials["password"] != issued {
		t.Fatalf("bind = %v, %v", bd, err)
	}
	if msg := fmt.Sprintf("%v %+v %#v %s", bd, bd, bd, bd.Credentials); strings.Contains(msg, issued) {
		t.Errorf("printed response contains credentials: %s", msg)
	}
}
