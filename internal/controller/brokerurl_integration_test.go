package controller_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/brokerurl"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// namespacedBroker creates a ServiceBroker whose credentials are in the
// Secret "creds" of its namespace.
func namespacedBroker(t *testing.T, c client.Client, ns, name, url string) {
	t.Helper()
	b := &scv1beta1.ServiceBroker{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: scv1beta1.ServiceBrokerSpec{
		CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: url, RelistBehavior: scv1beta1.ServiceBrokerRelistBehaviorDuration},
		AuthInfo:                &scv1beta1.ServiceBrokerAuthInfo{Basic: &scv1beta1.BasicAuthConfig{SecretRef: &scv1beta1.LocalObjectReference{Name: "creds"}}}}}
	if err := c.Create(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

// brokerReady returns the namespaced broker's Ready condition, or an error
// until it has the status and reason.
func namespacedBrokerReady(c client.Client, ns, name string, status scv1beta1.ConditionStatus, reason string) (*scv1beta1.ServiceBrokerCondition, error) {
	b := &scv1beta1.ServiceBroker{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, b); err != nil {
		return nil, err
	}
	cond := b.Status.GetCondition(scv1beta1.ServiceBrokerConditionReady)
	if cond == nil || cond.Status != status || cond.Reason != reason {
		return nil, fmt.Errorf("conditions: %+v", b.Status.Conditions)
	}
	return cond, nil
}

// A tenant's broker cannot reach the API server through any other address
// of it: loopback and unspecified addresses in every notation at its port,
// and the address its `kubernetes` EndpointSlice names. Loopback brokers on
// other ports still work (the tests' controller allows loopback, as in
// development).
func TestBrokerURLRefusesTheAPIServerByEveryAddress(t *testing.T) {
	env := controlPlane(t)
	ns := env.Namespace(t)
	ctx := context.Background()
	api, err := url.Parse(env.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	port := api.Port()

	local := testbroker.Start(t, testbroker.Options{Catalog: uniqueCatalog("urlpolicy-local")})
	basicSecret(t, env.Client, ns, "creds", testbroker.DefaultUsername, testbroker.DefaultPassword)
	namespacedBroker(t, env.Client, ns, "loopback", local.URL())

	hosts := map[string]string{ // broker name: host as written
		"loopback-2":  "127.0.0.2",
		"unspecified": "0.0.0.0",
		"mapped":      "[::ffff:127.0.0.1]",
		"short":       "127.1",
		"decimal":     "2130706433",
		"hex":         "0x7f000001",
		"localhost":   "localhost",
		"ipv6":        "[::1]",
	}
	// The API server's own EndpointSlice names where it listens; in this
	// test environment an address of this machine.
	slices := &discoveryv1.EndpointSliceList{}
	if err := env.Client.List(ctx, slices, client.InNamespace("default"), client.MatchingLabels{discoveryv1.LabelServiceName: "kubernetes"}); err != nil {
		t.Fatal(err)
	}
	if len(slices.Items) > 0 && len(slices.Items[0].Endpoints) > 0 {
		a := netip.MustParseAddr(slices.Items[0].Endpoints[0].Addresses[0])
		hosts["endpoint"] = strings.TrimSuffix(netip.AddrPortFrom(a, 1).String(), ":1")
	}
	for name, host := range hosts {
		namespacedBroker(t, env.Client, ns, name, "https://"+host+":"+port)
	}
	eventually(t, 30*time.Second, "the loopback broker on its own port Ready", func() error {
		_, err := namespacedBrokerReady(env.Client, ns, "loopback", scv1beta1.ConditionTrue, scv1beta1.ReasonFetchedCatalog)
		return err
	})
	for name, host := range hosts {
		var cond *scv1beta1.ServiceBrokerCondition
		eventually(t, 30*time.Second, "broker "+name+" at "+host+" refused", func() (err error) {
			cond, err = namespacedBrokerReady(env.Client, ns, name, scv1beta1.ConditionFalse, scv1beta1.ReasonErrorBrokerURLNotAllowed)
			return err
		})
		// The message names the host, the address it stands for, what it
		// is and the flag that would allow it.
		for _, want := range []string{strconv.Quote(strings.Trim(host, "[]")), "Kubernetes API server", brokerurl.AllowHostsFlag + "=" + strings.Trim(host, "[]")} {
			if !strings.Contains(cond.Message, want) {
				t.Errorf("broker %s: message %q does not contain %q", name, cond.Message, want)
			}
		}
	}
	for name, addr := range map[string]string{"short": "127.0.0.1", "decimal": "127.0.0.1", "hex": "127.0.0.1", "mapped": "127.0.0.1", "localhost": "resolves to 127.0.0.1"} {
		cond, err := namespacedBrokerReady(env.Client, ns, name, scv1beta1.ConditionFalse, scv1beta1.ReasonErrorBrokerURLNotAllowed)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(cond.Message, addr) {
			t.Errorf("broker %s: message %q does not name the address %s", name, cond.Message, addr)
		}
	}
}

// An EndpointSlice of the `kubernetes` Service makes its address and port
// refused, from the next read of the API server's addresses. The address is
// from TEST-NET-1 (192.0.2.0/24, RFC 5737) and only ever checked, never
// dialed: the policy refuses an address literal before any connection, and
// this test asks the policy directly so that not even a regression could
// send a request off this machine.
func TestBrokerURLRefusesAPIServerEndpointSlices(t *testing.T) {
	env := controlPlane(t)
	ctx := context.Background()
	there := netip.MustParseAddrPort("192.0.2.10:16443")
	a := &brokerurl.APIServerAddresses{Reader: env.Client}
	policy := &brokerurl.Policy{APIServerEndpoints: a.Get}
	eventually(t, 10*time.Second, "the API server's addresses read", func() error { return a.Refresh(ctx) })
	brokerURL := "http://" + there.String()
	if err := policy.Check(ctx, brokerURL); err != nil {
		t.Fatalf("before any EndpointSlice names %s the policy refuses it: %v", there, err)
	}

	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "default", GenerateName: "kubernetes-test-", Labels: map[string]string{discoveryv1.LabelServiceName: "kubernetes"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{there.Addr().String()}}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr("https"), Port: ptr(int32(there.Port()))}},
	}
	if err := env.Client.Create(ctx, slice); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), slice) })
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	err := policy.Check(ctx, brokerURL)
	var ue *brokerurl.Error
	if !errors.As(err, &ue) {
		t.Fatalf("once an EndpointSlice of the kubernetes Service names %s, the policy allows it (err %v)", there, err)
	}
	if want := "the Kubernetes API server's address and port (" + there.String() + ")"; !strings.Contains(err.Error(), want) {
		t.Errorf("message %q does not contain %q", err.Error(), want)
	}
	if err := policy.CheckConn(ctx, there.Addr().String(), there); err == nil {
		t.Errorf("a connection dialed to %s is allowed", there)
	}
}
