package bindsecret

import (
	"reflect"
	"testing"

	"github.com/svcat-io/svcat/api/v1beta1"
)

func TestWithServiceBindingKeys(t *testing.T) {
	karafka := Service{ClassTags: []string{"kafka", "cloudkarafka"}, ClassExternalName: "cloudkarafka", BrokerName: "kafka-broker"}
	tests := []struct {
		name  string
		creds map[string]any
		svc   Service
		want  map[string]any
	}{
		{
			name:  "from the first tag and the broker",
			creds: map[string]any{"brokers": "b:9092"},
			svc:   karafka,
			want:  map[string]any{"brokers": "b:9092", "type": "kafka", "provider": "kafka-broker"},
		},
		{
			name:  "the broker's keys win",
			creds: map[string]any{"type": "postgresql", "provider": "acme"},
			svc:   karafka,
			want:  map[string]any{"type": "postgresql", "provider": "acme"},
		},
		{
			name:  "blank tags are skipped, case folded",
			creds: map[string]any{},
			svc:   Service{ClassTags: []string{" ", " MySQL "}, BrokerName: "b"},
			want:  map[string]any{"type": "mysql", "provider": "b"},
		},
		{
			name:  "no tags: the class name",
			creds: nil,
			svc:   Service{ClassExternalName: "Redis", BrokerName: "b"},
			want:  map[string]any{"type": "redis", "provider": "b"},
		},
		{
			name:  "nothing known: nothing added",
			creds: map[string]any{"a": "b"},
			want:  map[string]any{"a": "b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := WithServiceBindingKeys(tt.creds, tt.svc)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// The seed's flow: the kafka broker's credentials, the cloudkarafka class,
// and transforms that run after the servicebinding.io keys are added.
func TestSeedBindingSecret(t *testing.T) {
	creds := map[string]any{
		"brokers": "k1:9093,k2:9093", "username": "u1", "password": "p@ss",
		"topicPrefix": "u1-", "ca": "-----BEGIN CERTIFICATE-----\n...", "name": "demo-kafka",
	}
	svc := Service{ClassTags: []string{"kafka", "cloudkarafka"}, ClassExternalName: "cloudkarafka", BrokerName: "cloudkarafka"}
	transforms := []v1beta1.SecretTransform{
		addPath("bootstrap.servers", "{.brokers}"),
		rename("provider", "origin"),
	}
	got, err := Render(WithServiceBindingKeys(creds, svc), transforms, nil, "app")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"brokers": "k1:9093,k2:9093", "username": "u1", "password": "p@ss", "topicPrefix": "u1-",
		"ca": "-----BEGIN CERTIFICATE-----\n...", "name": "demo-kafka",
		"type": "kafka", "origin": "cloudkarafka", "bootstrap.servers": "k1:9093,k2:9093",
	}
	if !reflect.DeepEqual(strs(got), want) {
		t.Errorf("got  %q\nwant %q", strs(got), want)
	}
}
