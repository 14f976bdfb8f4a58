package tenancy

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

// Issue 14, item 5 (broker URL policy): a tenant's ServiceBrokers point at
// the API server by every other name it has: other loopback addresses, the
// unspecified addresses, an IPv4-mapped IPv6 address and localhost; and at
// the link-local metadata address. (The endpoint behind the kubernetes
// Service would be this machine's own address, where tests send nothing; that
// rule is checked without dialing in internal/controller.) The controller allows loopback brokers in this run (the tests'
// brokers live there), yet refuses every one of these with reason
// ErrorBrokerURLNotAllowed, before any request carries the broker's
// credentials.
func TestBrokerURLsCannotReachTheAPIServer(t *testing.T) {
	c := setup(t)
	ctx := context.Background()
	c.startController(t, 0)
	api, err := url.Parse(c.env.Config.Host)
	must(t, err)
	port := api.Port()
	targets := map[string]string{
		"another loopback address":         "127.0.0.2:" + port,
		"short IPv4 notation of 127.0.0.1": "127.1:" + port,
		"the IPv4 unspecified address":     "0.0.0.0:" + port,
		"the IPv6 unspecified address":     "[::]:" + port,
		"IPv6 loopback":                    "[::1]:" + port,
		"IPv4-mapped 127.0.0.1":            "[::ffff:127.0.0.1]:" + port,
		"localhost":                        "localhost:" + port,
		"the link-local metadata address":  "169.254.169.254:80",
	}

	trudy := c.newTenant(t, "trudy")
	must(t, trudy.c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: trudy.ns, Name: "token"},
		Data: map[string][]byte{"token": []byte("trudy-broker-token")}}))
	names := map[string]string{}
	var order []string
	i := 0
	for what, hostPort := range targets {
		name := fmt.Sprintf("api-%d", i)
		i++
		names[name] = what
		order = append(order, name)
		b := &scv1beta1.ServiceBroker{ObjectMeta: metav1.ObjectMeta{Namespace: trudy.ns, Name: name}, Spec: scv1beta1.ServiceBrokerSpec{
			CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: "https://" + hostPort, InsecureSkipTLSVerify: true,
				RelistBehavior: scv1beta1.ServiceBrokerRelistBehaviorManual},
			AuthInfo: &scv1beta1.ServiceBrokerAuthInfo{Bearer: &scv1beta1.BearerTokenAuthConfig{SecretRef: &scv1beta1.LocalObjectReference{Name: "token"}}}}}
		must(t, trudy.c.Create(ctx, b))
	}
	sort.Strings(order)

	// Poll until every broker is refused; after the bound, report each
	// broker's condition.
	refused := func(name string) (*scv1beta1.ServiceBrokerCondition, bool) {
		cond, err := brokerReady(ctx, trudy.c, trudy.ns, name)
		return cond, err == nil && cond != nil && cond.Status == scv1beta1.ConditionFalse && cond.Reason == "ErrorBrokerURLNotAllowed"
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		all := true
		for _, name := range order {
			if _, ok := refused(name); !ok {
				all = false
			}
		}
		if all {
			break
		}
	}
	for _, name := range order {
		what := names[name]
		if cond, ok := refused(name); !ok {
			t.Errorf("broker at %s (%s): Ready %s; want False with reason ErrorBrokerURLNotAllowed", targets[what], what, describeBrokerCond(cond))
		} else {
			t.Logf("broker at %s (%s): refused: %s", targets[what], what, cond.Message)
		}
	}
}
