package brokermessages_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
	"github.com/svcat-io/svcat/internal/kafkabroker/embedded"
	"github.com/svcat-io/svcat/internal/kafkabroker/kafkatest"
	"github.com/svcat-io/svcat/internal/localcluster"
)

// rotCatalog has a plan "bear" whose credentials live 720 h (rotatable,
// as every kafka-broker plan unless it says otherwise).
func rotCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	return parseCatalog(t, `services:
- id: rot-kafka-svc
  name: rot-kafka
  description: Kafka with rotatable credentials
  plans:
  - id: rot-kafka-bear
    name: bear
    description: Bear
    limits: {maxTopics: 5, maxPartitions: 3, maxRetentionHours: 24}
    defaultTopics: [{name: default}]
    credentialLifetimeHours: 720
`)
}

// login reports whether the SCRAM user can talk to Kafka.
func login(cluster *embedded.Cluster, user, password string) error {
	cl, err := kgo.NewClient(cluster.ClientOpts(user, password)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return cl.Ping(ctx)
}

// Rotation against the real kafka-broker on embedded Kafka: the Secret
// gets a new SCRAM user in place, the old user keeps working through the
// grace period and is removed from Kafka after it, the expiry is in the
// status, and no password reaches a condition, an Event or the log.
func TestKafkaBrokerRotation(t *testing.T) {
	env := controlPlane(t)
	c := env.Client
	ctx := context.Background()
	cluster := kafkatest.Cluster(t, t.TempDir())
	ln := listenLoopback(t)
	serveKafkaBroker(t, cluster, rotCatalog(t), ln)

	_, inst, _ := kafkaInstance(t, env, "rot-kafka", "bear", ln.Addr().String())
	ns := inst.Namespace
	grace := 5 * time.Second
	bd := &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"}, Spec: scv1beta1.ServiceBindingSpec{
		InstanceRef: scv1beta1.InstanceReference{Name: "kafka"}, RotationPolicy: &scv1beta1.BindingRotationPolicy{GracePeriod: &metav1.Duration{Duration: grace}}}}
	if err := c.Create(ctx, bd); err != nil {
		t.Fatal(err)
	}
	waitFor := func(what string, ok func(*scv1beta1.ServiceBinding) error) {
		t.Helper()
		localcluster.Eventually(t, time.Minute, what, func() error {
			if err := c.Get(ctx, client.ObjectKeyFromObject(bd), bd); err != nil {
				return err
			}
			return ok(bd)
		})
	}
	waitFor("bound", func(b *scv1beta1.ServiceBinding) error {
		if cond := b.Status.GetCondition(scv1beta1.ServiceBindingConditionReady); cond == nil || cond.Status != scv1beta1.ConditionTrue {
			return fmt.Errorf("conditions %+v", b.Status.Conditions)
		}
		return nil
	})
	if e := bd.Status.ExpiresAt; e == nil || e.Time.Before(time.Now().Add(719*time.Hour)) || e.Time.After(time.Now().Add(721*time.Hour)) {
		t.Errorf("status.expiresAt %v, want 720 h from now", e)
	}
	secret := func() *corev1.Secret {
		s := &corev1.Secret{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	old := secret()
	oldUser, oldPass := string(old.Data["username"]), string(old.Data["password"])
	if err := login(cluster, oldUser, oldPass); err != nil {
		t.Fatalf("the first credentials do not work: %v", err)
	}

	localcluster.Eventually(t, 10*time.Second, "ask for a rotation", func() error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(bd), bd); err != nil {
			return err
		}
		bd.Annotations = map[string]string{scv1beta1.AnnotationRotationRequest: "kafka-1"}
		return c.Update(ctx, bd)
	})
	waitFor("rotated", func(b *scv1beta1.ServiceBinding) error {
		if r := b.Status.Rotation; r == nil || r.LastRequest != "kafka-1" || r.Pending != nil {
			return fmt.Errorf("status.rotation %+v, conditions %+v", r, b.Status.Conditions)
		}
		return nil
	})
	rotatedAt := time.Now()
	cur := secret()
	newUser, newPass := string(cur.Data["username"]), string(cur.Data["password"])
	if cur.UID != old.UID {
		t.Errorf("the Secret was replaced")
	}
	if newUser == oldUser || newPass == oldPass {
		t.Fatalf("the Secret still holds the old user")
	}
	if err := login(cluster, newUser, newPass); err != nil {
		t.Errorf("the new credentials do not work: %v", err)
	}
	if err := login(cluster, oldUser, oldPass); err != nil && time.Since(rotatedAt) < grace-time.Second {
		t.Errorf("the old credentials stopped working within the grace period: %v", err)
	}

	waitFor("the old binding unbound", func(b *scv1beta1.ServiceBinding) error {
		if n := len(b.Status.Rotation.Retiring); n != 0 {
			return fmt.Errorf("%d retiring", n)
		}
		return nil
	})
	if err := login(cluster, oldUser, oldPass); err == nil {
		t.Errorf("the old user still works after its grace period ended and it was unbound")
	}
	if err := login(cluster, newUser, newPass); err != nil {
		t.Errorf("the new credentials stopped working: %v", err)
	}

	var texts []string
	for _, cond := range bd.Status.Conditions {
		texts = append(texts, cond.Message)
	}
	evs := &corev1.EventList{}
	if err := c.List(ctx, evs, client.InNamespace(ns)); err == nil {
		for _, e := range evs.Items {
			texts = append(texts, e.Message)
		}
	}
	evs2 := &eventsv1.EventList{}
	if err := c.List(ctx, evs2, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, e := range evs2.Items {
		texts = append(texts, e.Note)
	}
	if len(evs2.Items)+len(evs.Items) == 0 {
		t.Errorf("no Events about the rotation")
	}
	texts = append(texts, controllerLog.String())
	for _, p := range []string{oldPass, newPass} {
		for _, s := range texts {
			if strings.Contains(s, p) {
				t.Fatalf("a password is in a condition, an Event or the controller's log")
			}
		}
	}
}
