package brokermessages_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/svcatcmd"
	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
	"github.com/svcat-io/svcat/internal/kafkabroker/kafkatest"
	"github.com/svcat-io/svcat/internal/localcluster"
)

// plansCatalog has a small plan (duck: 2 topics of at most 1 MiB) and a
// larger one (bear: 5 topics of at most 10 MiB); plans may change.
func plansCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	return parseCatalog(t, `services:
- id: plans-kafka-svc
  name: plans-kafka
  description: Kafka whose plans change
  plans:
  - id: plans-kafka-duck
    name: duck
    description: Duck
    limits: {maxTopics: 2, maxPartitions: 1, maxRetentionHours: 24, maxBytesPerTopic: 1048576}
    defaultTopics: [{name: default}]
  - id: plans-kafka-bear
    name: bear
    description: Bear
    limits: {maxTopics: 5, maxPartitions: 3, maxRetentionHours: 24, maxBytesPerTopic: 10485760}
    defaultTopics: [{name: default}]
`)
}

// runSvcat runs the svcat command tree in-process against the test API
// server.
func runSvcat(env *localcluster.Env, args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code = svcatcmd.Run(ctx, genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, "svcat",
		append([]string{"--kubeconfig", env.Kubeconfig}, args...))
	return out.String(), errOut.String(), code
}

// Plan changes against the real kafka-broker on embedded Kafka: duck to
// bear raises the tenant's limits (its topic's retention.bytes, room for
// more topics); bear to duck with more topics than duck allows is refused
// with the broker's words, the instance keeps bear at the broker and in
// Kafka, the refusal is not sent again, and svcat describe instance says
// so.
func TestKafkaBrokerPlanChanges(t *testing.T) {
	env := controlPlane(t)
	c := env.Client
	ctx := context.Background()
	cluster := kafkatest.Cluster(t, t.TempDir())
	ln := listenLoopback(t)
	serveKafkaBroker(t, cluster, plansCatalog(t), ln)
	_, inst, waitFor := kafkaInstance(t, env, "plans-kafka", "duck", ln.Addr().String())
	ns := inst.Namespace
	onPlan := func(plan string) func(*scv1beta1.ServiceInstance) error {
		return func(i *scv1beta1.ServiceInstance) error {
			if p := i.Status.ExternalProperties; p == nil || p.ClusterServicePlanExternalName != plan || i.Status.ObservedGeneration != i.Generation {
				return fmt.Errorf("externalProperties %+v, conditions %+v", p, i.Status.Conditions)
			}
			return nil
		}
	}
	waitFor("provisioned on duck", onPlan("duck"))
	if got := topicConfig(t, cluster, "retention.bytes"); got != "1048576" {
		t.Fatalf("retention.bytes %q on duck, want 1048576", got)
	}

	// Up: svcat asks, the controller sends, Kafka has bear's limits.
	out, errOut, code := runSvcat(env, "-n", ns, "update", "instance", "kafka", "--plan", "bear", "--wait", "--timeout", "1m")
	if code != 0 {
		t.Fatalf("svcat update instance --plan bear: exit %d\n%s%s", code, out, errOut)
	}
	waitFor("on bear", onPlan("bear"))
	if got := topicConfig(t, cluster, "retention.bytes"); got != "10485760" {
		t.Errorf("retention.bytes %q on bear, want 10485760", got)
	}
	// Three topics at the broker (the kafka-broker keeps topics left out
	// of an update), more than duck's two; the parameters list two, which
	// duck's schema accepts, so only the broker can tell.
	out, errOut, code = runSvcat(env, "-n", ns, "update", "instance", "kafka", "--params-json",
		`{"topics":[{"name":"orders"},{"name":"payments"}]}`, "--wait", "--timeout", "1m")
	if code != 0 {
		t.Fatalf("svcat update instance --params-json: exit %d\n%s%s", code, out, errOut)
	}

	// Down: refused, with the broker's words, and nothing changes.
	const why = "plan duck allows 2 topics and the instance would have 3"
	_, errOut, code = runSvcat(env, "-n", ns, "update", "instance", "kafka", "--plan", "duck", "--wait", "--timeout", "1m")
	if code == 0 || !strings.Contains(errOut, why) || !strings.Contains(errOut, "the instance keeps plan bear") {
		t.Errorf("svcat update instance --plan duck --wait: exit %d, stderr %q; want a failure quoting %q", code, errOut, why)
	}
	waitFor("the downgrade refused", func(i *scv1beta1.ServiceInstance) error {
		f := i.Status.GetCondition(scv1beta1.ServiceInstanceConditionFailed)
		if f == nil || !strings.Contains(f.Message, why) {
			return fmt.Errorf("Failed %+v", f)
		}
		return nil
	})
	if p := inst.Status.ExternalProperties.ClusterServicePlanExternalName; p != "bear" {
		t.Errorf("externalProperties plan %q after the refusal, want bear", p)
	}
	if l := inst.Status.LastFailedUpdate; l == nil || l.PlanExternalID != "plans-kafka-duck" {
		t.Errorf("lastFailedUpdate %+v, want the refused plan", l)
	}
	if got := topicConfig(t, cluster, "retention.bytes"); got != "10485760" {
		t.Errorf("retention.bytes %q after the refused downgrade, want bear's 10485760", got)
	}
	refusedAt := inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionFailed).LastTransitionTime
	time.Sleep(5 * time.Second)
	if err := c.Get(ctx, client.ObjectKeyFromObject(inst), inst); err != nil {
		t.Fatal(err)
	}
	if f := inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionFailed); f == nil || !f.LastTransitionTime.Equal(&refusedAt) {
		t.Errorf("the refusal changed without a spec change (sent again?): %+v", f)
	}

	out, errOut, code = runSvcat(env, "-n", ns, "describe", "instance", "kafka")
	if code != 0 {
		t.Fatalf("svcat describe instance: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"Plan:             duck", "Plan at broker:   bear", why} {
		if !strings.Contains(out, want) {
			t.Errorf("svcat describe instance lacks %q:\n%s", want, out)
		}
	}
}
