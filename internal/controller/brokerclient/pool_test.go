package brokerclient

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/testbroker"
)

func secretReader(data map[string][]byte) *Pool {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "osb", Name: "creds"}, Data: data}
	return &Pool{Reader: fake.NewClientBuilder().WithObjects(s).Build()}
}

// A broker URL with an in-cluster host name reaches a local broker through
// Resolve, the way the demo runs the seed's manifest unchanged.
func TestResolveSendsInClusterNamesToALocalBroker(t *testing.T) {
	broker := testbroker.Start(t, testbroker.Options{})
	local, _ := url.Parse(broker.URL())
	p := secretReader(map[string][]byte{"username": []byte(testbroker.DefaultUsername), "password": []byte(testbroker.DefaultPassword)})
	p.Resolve = map[string]string{"cloudkarafka-service-broker-service.osb.svc.cluster.local:80": local.Host}
	b := Broker{Key: "ClusterServiceBroker/x", Spec: &scv1beta1.CommonServiceBrokerSpec{URL: "http://cloudkarafka-service-broker-service.osb.svc.cluster.local"},
		Basic: &types.NamespacedName{Namespace: "osb", Name: "creds"}}
	c, err := p.Client(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := c.GetCatalog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cat.Services[0].Name != "cloudkarafka" {
		t.Errorf("catalog %+v", cat.Services)
	}
}

func TestClientIsReusedUntilCredentialsChange(t *testing.T) {
	p := secretReader(map[string][]byte{"username": []byte("u"), "password": []byte("p")})
	b := Broker{Key: "k", Spec: &scv1beta1.CommonServiceBrokerSpec{URL: "http://127.0.0.1:1"}, Basic: &types.NamespacedName{Namespace: "osb", Name: "creds"}}
	c1, err := p.Client(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := p.Client(context.Background(), b)
	if c1 != c2 {
		t.Error("a new client was built although nothing changed")
	}
	b.Spec.URL = "http://127.0.0.1:2"
	if c3, _ := p.Client(context.Background(), b); c3 == c1 {
		t.Error("the client was reused after the URL changed")
	}
}

func TestCredentialsErrorsNameTheSecretNotTheValue(t *testing.T) {
	p := secretReader(map[string][]byte{"username": []byte("u"), "password": []byte("")})
	_, err := p.Client(context.Background(), Broker{Key: "k", Spec: &scv1beta1.CommonServiceBrokerSpec{URL: "http://x"}, Basic: &types.NamespacedName{Namespace: "osb", Name: "creds"}})
	var ce *CredentialsError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), `Secret osb/creds, key "password": the key is missing or empty`) {
		t.Errorf("got %v", err)
	}
	_, err = p.Client(context.Background(), Broker{Key: "k", Spec: &scv1beta1.CommonServiceBrokerSpec{URL: "http://x"}, Bearer: &types.NamespacedName{Namespace: "osb", Name: "nope"}})
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "Secret osb/nope: the Secret does not exist") {
		t.Errorf("got %v", err)
	}
}
