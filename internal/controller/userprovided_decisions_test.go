package controller

import (
	"context"
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/stepresult"
)

func TestDecideUserProvided(t *testing.T) {
	const secretValue = "hunter2-secret-value"
	big := strings.Repeat("x", MaxUserProvidedBytes)
	cases := []struct {
		name      string
		sec       userProvidedSecret
		class     stepresult.Class
		reason    string
		inMessage []string
	}{
		{"found", userProvidedSecret{name: "db", ns: "team-a", found: true, data: map[string][]byte{"password": []byte(secretValue)}},
			stepresult.Done, scv1beta1.ReasonUserProvidedSecretFound, []string{`"db"`}},
		{"found empty", userProvidedSecret{name: "db", ns: "team-a", found: true},
			stepresult.Done, scv1beta1.ReasonUserProvidedSecretFound, []string{`"db"`}},
		{"missing", userProvidedSecret{name: "db", ns: "team-a"},
			stepresult.Stalled, scv1beta1.ReasonUserProvidedSecretNotFound, []string{`"db"`, `"team-a"`, "spec.userProvided.secretRef"}},
		{"exactly at the bound", userProvidedSecret{name: "db", ns: "team-a", found: true, data: map[string][]byte{"k": []byte(big[1:])}},
			stepresult.Done, scv1beta1.ReasonUserProvidedSecretFound, nil},
		{"one byte over, the key counted", userProvidedSecret{name: "db", ns: "team-a", found: true, data: map[string][]byte{"k": []byte(big), "p": []byte(secretValue)}},
			stepresult.Stalled, scv1beta1.ReasonUserProvidedSecretTooLarge, []string{`"db"`, "524310 bytes", "524288"}},
		{"unreadable", userProvidedSecret{name: "db", ns: "team-a", err: errors.New("etcd is slow")},
			stepresult.Transient, scv1beta1.ReasonUserProvidedSecretUnreadable, []string{`"db"`, "etcd is slow"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, sum := decideUserProvided(tc.sec)
			if out.Class != tc.class || out.Reason != tc.reason {
				t.Fatalf("got %v %s (%s), want %v %s", out.Class, out.Reason, out.Message, tc.class, tc.reason)
			}
			for _, w := range tc.inMessage {
				if !strings.Contains(out.Message, w) {
					t.Errorf("message %q does not contain %q", out.Message, w)
				}
			}
			if strings.Contains(out.Message, secretValue) {
				t.Errorf("message %q contains a value of the Secret", out.Message)
			}
			if (sum != "") != (tc.class == stepresult.Done) {
				t.Errorf("checksum %q for a %v result", sum, out.Class)
			}
		})
	}
}

func TestUserProvidedChecksum(t *testing.T) {
	sum := func(kv ...string) string {
		d := map[string][]byte{}
		for i := 0; i < len(kv); i += 2 {
			d[kv[i]] = []byte(kv[i+1])
		}
		return userProvidedChecksum(d)
	}
	if sum("a", "1", "b", "2") != sum("b", "2", "a", "1") {
		t.Error("the checksum depends on the map's order")
	}
	for _, pair := range [][2]string{
		{sum("a", "1"), sum("a", "2")},                     // a value changed
		{sum("a", "1"), sum("b", "1")},                     // a key renamed
		{sum("a", "1"), sum("a", "1", "b", "")},            // a key added, even empty
		{sum("ab", "c"), sum("a", "bc")},                   // the same bytes split differently
		{sum("a", "1", "b", "2"), sum("a", "1b", "", "2")}, // nor across keys
	} {
		if pair[0] == pair[1] {
			t.Errorf("two different data sets have one checksum %s", pair[0])
		}
	}
}

// The Secret's bytes reach the binding's Secret unchanged, binary ones
// too: strings are written raw by bindsecret.
func TestUserProvidedCredentialsKeepBytes(t *testing.T) {
	data := map[string][]byte{"cert": {0xff, 0x00, 0xfe}, "user": []byte("alice")}
	creds := userProvidedCredentials(data)
	for k, v := range data {
		if s, ok := creds[k].(string); !ok || s != string(v) {
			t.Errorf("%s: %#v, want the string of its bytes", k, creds[k])
		}
	}
}

// A binding in another namespace than its user-provided instance is
// refused before anything is read: the Secret's credentials stay in its
// namespace, and the answer is the one for any instance not shared with
// the binding's namespace, whether it exists or not.
func TestUserProvidedNotAcrossNamespaces(t *testing.T) {
	inst := &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: "owner", Name: "db"},
		Spec: scv1beta1.ServiceInstanceSpec{UserProvided: &scv1beta1.UserProvidedCredentials{SecretRef: scv1beta1.UserProvidedSecretReference{Name: "creds"}}}}
	b := &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "consumer", Name: "app"},
		Spec: scv1beta1.ServiceBindingSpec{InstanceRef: scv1beta1.InstanceReference{Name: "db", Namespace: "owner"}}}
	// No clients: any read or write would panic.
	out := (&BindingReconciler{}).bindUserProvided(context.Background(), &bindingStep{b: b, inst: inst})
	if want := notShared(b); out.Class != stepresult.Stalled || out.Reason != want.Reason || out.Message != want.Message {
		t.Errorf("got %v %s %q; want the refusal of an instance not shared, %s %q", out.Class, out.Reason, out.Message, want.Reason, want.Message)
	}
}
