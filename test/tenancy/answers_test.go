package tenancy

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

// maxCopied bounds what of a broker's answer may reach one condition
// message, event message or log line: a summary, not the answer.
const maxCopied = 8 << 10

// Issue 14, "the kafka-broker checks context" (last sentence): every broker
// answer the controller copies into conditions and events is redacted or
// truncated. A tenant's broker lies: it answers every provision with a 409
// whose description is 256 KiB of someone else's data. The instance fails,
// and neither its conditions, nor the events of its namespace, nor any
// line of the controller's log carry more than a few KiB of it.
func TestBrokerAnswersAreTruncatedWhenCopied(t *testing.T) {
	c := setup(t)
	ctx := context.Background()
	ctl := c.startController(t, 0)
	liar := c.newTenant(t, "liar")
	stolen := strings.Repeat(`someone-else's {"password":"hunter2"} `, (256<<10)/38)
	desc, err := json.Marshal(map[string]string{"description": stolen})
	must(t, err)
	h := startHostile(t, func(h *hostileBroker, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v2/catalog" {
			_, _ = w.Write(hostileCatalog(wideArray, 0))
			return
		}
		w.WriteHeader(http.StatusConflict)
		_, _ = w.Write(desc)
	})
	liar.createBroker(t, "liar", h.URL(), "", "")
	waitFor(t, time.Minute, "the liar's class", func() error {
		return liar.c.Get(ctx, client.ObjectKey{Namespace: liar.ns, Name: "hostile-service"}, &scv1beta1.ServiceClass{})
	})
	must(t, liar.c.Create(ctx, namespacedInstance(liar.ns, "db", "hostile", "default")))
	cond := waitSettled(t, liar.c, liar.ns, "db")
	if cond.Status == scv1beta1.ConditionTrue {
		t.Fatalf("an instance whose provision was answered 409 is Ready")
	}
	i := &scv1beta1.ServiceInstance{}
	must(t, liar.c.Get(ctx, client.ObjectKey{Namespace: liar.ns, Name: "db"}, i))
	for _, cond := range i.Status.Conditions {
		t.Logf("%s condition: %s, %d bytes: %.200s", cond.Type, cond.Reason, len(cond.Message), cond.Message)
		if len(cond.Message) > maxCopied {
			t.Errorf("the instance's %s condition message is %d bytes of the broker's answer; want at most %d", cond.Type, len(cond.Message), maxCopied)
		}
	}
	events := &corev1.EventList{}
	must(t, liar.c.List(ctx, events, client.InNamespace(liar.ns)))
	for _, e := range events.Items {
		if len(e.Message) > maxCopied {
			t.Errorf("event %s is %d bytes of the broker's answer; want at most %d", e.Reason, len(e.Message), maxCopied)
		}
	}
	for _, line := range strings.Split(ctl.log(t), "\n") {
		if len(line) > maxCopied && strings.Contains(line, "someone-else's") {
			t.Errorf("a controller log line is %d bytes, with the broker's answer; want at most %d", len(line), maxCopied)
			break
		}
	}
}
