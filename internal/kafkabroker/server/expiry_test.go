package server_test

import (
	"testing"
	"time"

	"github.com/svcat-io/svcat/internal/kafkabroker/kafkatest"
)

// A plan with a credential lifetime (the built-in bear: 30 days) answers
// binds and GET binding with metadata.expires_at and renew_before.
func TestBindingExpiresAt(t *testing.T) {
	osb, _ := startBroker(t, kafkatest.Cluster(t, ""))
	expect(t, "provision", osb.Do(t, "PUT", instPath("e"), tenantBody(bear, "team-a", nil)), 201)
	before := time.Now().Truncate(time.Second)
	bound := osb.Do(t, "PUT", bindPath("e", "b"), tenantBody(bear, "team-a", nil))
	expect(t, "bind", bound, 201)
	expires, renew := bindingTimes(t, bound)
	if lo, hi := before.Add(30*24*time.Hour), time.Now().Add(30*24*time.Hour); expires.Before(lo) || expires.After(hi) {
		t.Fatalf("expires_at %s, want 30 days from the bind (%s to %s)", expires, lo, hi)
	}
	if want := expires.Add(-6 * 24 * time.Hour); !renew.Equal(want) {
		t.Fatalf("renew_before %s, want a fifth of the lifetime before expiry (%s)", renew, want)
	}

	got := osb.Do(t, "GET", bindPath("e", "b"), nil)
	expect(t, "get binding", got, 200)
	if e, r := bindingTimes(t, got); !e.Equal(expires) || !r.Equal(renew) {
		t.Fatalf("GET binding says expires_at %s, renew_before %s; the bind said %s, %s", e, r, expires, renew)
	}
	again := osb.Do(t, "PUT", bindPath("e", "b"), tenantBody(bear, "team-a", nil))
	expect(t, "repeated bind", again, 200)
	if e, _ := bindingTimes(t, again); !e.Equal(expires) {
		t.Fatalf("a repeated bind moved expires_at from %s to %s", expires, e)
	}
	// A rotation's credentials get a lifetime of their own.
	rotated := osb.Do(t, "PUT", bindPath("e", "c"), rotation(bear, "team-a", "b"))
	expect(t, "rotate", rotated, 201)
	if e, _ := bindingTimes(t, rotated); e.Before(expires) {
		t.Fatalf("the rotated binding expires at %s, before its predecessor (%s)", e, expires)
	}

	// Plans without a lifetime answer no expiry.
	expect(t, "provision duck", osb.Do(t, "PUT", instPath("d"), tenantBody(duck, "team-a", nil)), 201)
	plain := osb.Do(t, "PUT", bindPath("d", "b"), tenantBody(duck, "team-a", nil))
	expect(t, "bind duck", plain, 201)
	if _, ok := plain.Body["metadata"]; ok {
		t.Fatalf("a plan without a credential lifetime answered metadata: %s", plain.Raw)
	}
}

func bindingTimes(t *testing.T, r kafkatest.Response) (expires, renew time.Time) {
	t.Helper()
	md, _ := r.Body["metadata"].(map[string]any)
	e, _ := md["expires_at"].(string)
	rb, _ := md["renew_before"].(string)
	var err error
	if expires, err = time.Parse(time.RFC3339, e); err != nil {
		t.Fatalf("metadata.expires_at %q is not RFC 3339: %s", e, r.Raw)
	}
	if renew, err = time.Parse(time.RFC3339, rb); err != nil {
		t.Fatalf("metadata.renew_before %q is not RFC 3339: %s", rb, r.Raw)
	}
	return expires, renew
}
