package output

import (
	"bytes"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcat-io/svcat/api/v1beta1"
)

// describe instance shows why a parametersFrom Secret's change would not
// reach the broker at once, and nothing when every Secret is watched.
func TestInstanceDetailsParameterSecretsNotWatched(t *testing.T) {
	in := &v1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "team-a"}}
	in.Status.SetCondition(v1beta1.ServiceInstanceConditionReady, v1beta1.ConditionTrue, v1beta1.ReasonProvisionedSuccessfully, "The instance was provisioned successfully", metav1.Now())
	var plain bytes.Buffer
	if err := InstanceDetails(&plain, in, "kafka", "small", nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "Parameter Secrets:") {
		t.Errorf("describe without the condition:\n%s", plain.String())
	}
	msg := `1 Secret(s) named in spec.parametersFrom are not watched ("p-5"): namespace "team-a" already has 250 parameter Secrets watched`
	in.Status.SetAdvisoryCondition(v1beta1.ServiceInstanceConditionParameterSecretsWatched, v1beta1.ConditionFalse, v1beta1.ReasonParameterSecretsNotWatched, msg, metav1.Now())
	var out bytes.Buffer
	if err := InstanceDetails(&out, in, "kafka", "small", nil); err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.Contains(l, "Parameter Secrets:") {
			line = l
		}
	}
	if !strings.Contains(line, "ParameterSecretsNotWatched") || !strings.Contains(line, `("p-5")`) {
		t.Errorf("describe says %q; want the reason and the Secret:\n%s", line, out.String())
	}
	if !strings.Contains(out.String(), "Status:") || !strings.Contains(out.String(), "Ready") {
		t.Errorf("the status line no longer says Ready:\n%s", out.String())
	}
}
