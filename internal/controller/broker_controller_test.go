package controller_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/yaml"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

func ensureNamespace(t *testing.T, c client.Client, name string) {
	t.Helper()
	err := c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// The seed's ClusterServiceBroker, applied as the blog post prints it (only
// the URL points at a test broker serving the seed's catalog), produces what
// the post's kubectl commands show.
func TestSeedBrokerProducesTheSeedsClassesAndPlans(t *testing.T) {
	env := controlPlane(t)
	broker := testbroker.Start(t, testbroker.Options{})
	ensureNamespace(t, env.Client, "osb")
	basicSecret(t, env.Client, "osb", "cloudkarafka-service-broker-secret", testbroker.DefaultUsername, testbroker.DefaultPassword)
	t.Cleanup(func() {
		_ = env.Client.Delete(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "osb", Name: "cloudkarafka-service-broker-secret"}})
	})

	data, err := os.ReadFile(filepath.Join("..", "..", "test", "testdata", "seed", "cluster-service-broker.yml"))
	if err != nil {
		t.Fatal(err)
	}
	b := &scv1beta1.ClusterServiceBroker{}
	if err := yaml.UnmarshalStrict(data, b); err != nil {
		t.Fatal(err)
	}
	b.Spec.URL = broker.URL()
	if err := env.Client.Create(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteClusterBroker(t, env.Client, "cloudkarafka") })

	got := waitBrokerCondition(t, env.Client, "cloudkarafka", scv1beta1.ConditionTrue, scv1beta1.ReasonFetchedCatalog)
	if got.Status.LastConditionState != "Ready" || got.Status.LastCatalogRetrievalTime == nil || got.Status.ReconciledGeneration != got.Generation {
		t.Errorf("status: %+v", got.Status)
	}

	classes := kubectl(t, env, "get", "clusterserviceclasses", "-o", "custom-columns=CLASS:.spec.externalName,DESCRIPTION:.spec.description")
	if want := "CLASS          DESCRIPTION\ncloudkarafka   CloudKarafka\n"; classes != want {
		t.Errorf("kubectl get clusterserviceclasses printed\n%s\nthe seed shows\n%s", classes, want)
	}
	plans := kubectl(t, env, "get", "clusterserviceplans", "-o", "custom-columns=CLASS:.spec.clusterServiceBrokerName,PLAN:.spec.externalName,DESCRIPTION:.spec.description")
	if want := "CLASS          PLAN   DESCRIPTION\ncloudkarafka   duck   Developer Duck\n"; plans != want {
		t.Errorf("kubectl get clusterserviceplans printed\n%s\nthe seed shows\n%s", plans, want)
	}

	// Names, owner and lookup labels as v0.3 made them.
	class := &scv1beta1.ClusterServiceClass{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Name: testbroker.SeedServiceID}, class); err != nil {
		t.Fatalf("class named after the service ID: %v", err)
	}
	wantLabels := map[string]string{
		scv1beta1.LabelExternalID:               scv1beta1.LabelValue(testbroker.SeedServiceID),
		scv1beta1.LabelExternalName:             scv1beta1.LabelValue("cloudkarafka"),
		scv1beta1.LabelClusterServiceBrokerName: scv1beta1.LabelValue("cloudkarafka"),
	}
	if !reflect.DeepEqual(class.Labels, wantLabels) {
		t.Errorf("class labels %v, want %v", class.Labels, wantLabels)
	}
	if refs := class.OwnerReferences; len(refs) != 1 || refs[0].Kind != "ClusterServiceBroker" || refs[0].Name != "cloudkarafka" || !*refs[0].Controller {
		t.Errorf("class owner references: %+v", refs)
	}
	plan := &scv1beta1.ClusterServicePlan{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Name: testbroker.SeedPlanID}, plan); err != nil {
		t.Fatalf("plan named after the plan ID: %v", err)
	}
	if plan.Spec.ClusterServiceClassRef.Name != testbroker.SeedServiceID || !plan.Spec.Free || plan.Labels[scv1beta1.LabelClusterServiceClassRefName] != scv1beta1.LabelValue(testbroker.SeedServiceID) {
		t.Errorf("plan: %+v labels %v", plan.Spec, plan.Labels)
	}

	// A relist of an unchanged catalog writes nothing.
	before := class.ResourceVersion
	patchBroker(t, env.Client, "cloudkarafka", func(b *scv1beta1.ClusterServiceBroker) { b.Spec.RelistRequests++ })
	eventually(t, 10*time.Second, "relist after relistRequests", func() error {
		cur := &scv1beta1.ClusterServiceBroker{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Name: "cloudkarafka"}, cur); err != nil {
			return err
		}
		if cur.Status.ReconciledGeneration != cur.Generation {
			return fmt.Errorf("reconciled generation %d of %d", cur.Status.ReconciledGeneration, cur.Generation)
		}
		return nil
	})
	if err := env.Client.Get(context.Background(), client.ObjectKey{Name: testbroker.SeedServiceID}, class); err != nil {
		t.Fatal(err)
	}
	if class.ResourceVersion != before {
		t.Errorf("an unchanged catalog rewrote the class (resourceVersion %s -> %s)", before, class.ResourceVersion)
	}
}

func patchBroker(t *testing.T, c client.Client, name string, edit func(*scv1beta1.ClusterServiceBroker)) {
	t.Helper()
	b := &scv1beta1.ClusterServiceBroker{}
	if err := c.Get(context.Background(), client.ObjectKey{Name: name}, b); err != nil {
		t.Fatal(err)
	}
	orig := b.DeepCopy()
	edit(b)
	if err := c.Patch(context.Background(), b, client.MergeFrom(orig)); err != nil {
		t.Fatal(err)
	}
}

func TestBrokerAuthenticationErrorsAreReportedThenRecovered(t *testing.T) {
	env := controlPlane(t)
	ns := env.Namespace(t)
	broker := testbroker.Start(t, testbroker.Options{Catalog: uniqueCatalog("auth"), Auth: testbroker.Auth{Username: "svc", Password: "s3cret-basic-pw"}})
	basicSecret(t, env.Client, ns, "creds", "svc", "wrong-password-value")
	clusterBroker(t, env.Client, "auth", scv1beta1.ClusterServiceBrokerSpec{
		CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: broker.URL()},
		AuthInfo:                &scv1beta1.ClusterServiceBrokerAuthInfo{Basic: &scv1beta1.ClusterBasicAuthConfig{SecretRef: &scv1beta1.ObjectReference{Namespace: ns, Name: "creds"}}},
	})
	b := waitBrokerCondition(t, env.Client, "auth", scv1beta1.ConditionFalse, scv1beta1.ReasonErrorFetchingCatalog)
	msg := b.Status.GetCondition(scv1beta1.ServiceBrokerConditionReady).Message
	if !strings.Contains(msg, "HTTP 401") || !strings.Contains(msg, "spec.authInfo") {
		t.Errorf("the condition does not tell the user what to fix: %q", msg)
	}
	if b.Status.LastConditionState != scv1beta1.ReasonErrorFetchingCatalog {
		t.Errorf("lastConditionState %q", b.Status.LastConditionState)
	}

	// Fixing the Secret is picked up by the retries, without touching the
	// broker.
	s := &corev1.Secret{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "creds"}, s); err != nil {
		t.Fatal(err)
	}
	s.Data["password"] = []byte("s3cret-basic-pw")
	if err := env.Client.Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	waitBrokerCondition(t, env.Client, "auth", scv1beta1.ConditionTrue, scv1beta1.ReasonFetchedCatalog)
	if got := catalogOf(t, env.Client, "auth"); len(got["auth-kafka"]) != 2 {
		t.Errorf("catalog: %v", got)
	}
	assertNoSecretsLeaked(t, env.Client, "auth", "s3cret-basic-pw", "wrong-password-value")
}

// assertNoSecretsLeaked checks the broker's status and its events for the
// given secret values.
func assertNoSecretsLeaked(t *testing.T, c client.Client, broker string, secrets ...string) {
	t.Helper()
	b := &scv1beta1.ClusterServiceBroker{}
	if err := c.Get(context.Background(), client.ObjectKey{Name: broker}, b); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, cond := range b.Status.Conditions {
		texts = append(texts, cond.Message)
	}
	events := &eventsv1.EventList{}
	if err := c.List(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events.Items {
		if e.Regarding.Name == broker {
			texts = append(texts, e.Note)
			n++
		}
	}
	if n == 0 {
		t.Errorf("no events were recorded for broker %s", broker)
	}
	for _, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("a credential appears in %q", text)
			}
		}
	}
}

func TestBrokerMissingSecretAndBearerAuth(t *testing.T) {
	env := controlPlane(t)
	ns := env.Namespace(t)
	broker := testbroker.Start(t, testbroker.Options{Catalog: uniqueCatalog("bearer"), Auth: testbroker.Auth{BearerToken: "tok-123-secret"}})
	clusterBroker(t, env.Client, "bearer", scv1beta1.ClusterServiceBrokerSpec{
		CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: broker.URL()},
		AuthInfo:                &scv1beta1.ClusterServiceBrokerAuthInfo{Bearer: &scv1beta1.ClusterBearerTokenAuthConfig{SecretRef: &scv1beta1.ObjectReference{Namespace: ns, Name: "token"}}},
	})
	b := waitBrokerCondition(t, env.Client, "bearer", scv1beta1.ConditionFalse, scv1beta1.ReasonErrorFetchingCatalog)
	if msg := b.Status.GetCondition(scv1beta1.ServiceBrokerConditionReady).Message; !strings.HasPrefix(msg, "Error getting broker auth credentials") ||
		!strings.Contains(msg, ns+"/token") || !strings.Contains(msg, "does not exist") {
		t.Errorf("message %q should name the missing Secret", msg)
	}
	if err := env.Client.Create(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "token"},
		Data: map[string][]byte{"token": []byte("tok-123-secret")}}); err != nil {
		t.Fatal(err)
	}
	waitBrokerCondition(t, env.Client, "bearer", scv1beta1.ConditionTrue, scv1beta1.ReasonFetchedCatalog)
	for _, r := range broker.RequestsFor(osb.OpGetCatalog) {
		if r.Header.Get("X-Broker-API-Version") != "2.17" {
			t.Errorf("request without X-Broker-API-Version 2.17: %v", r.Header)
		}
	}
	assertNoSecretsLeaked(t, env.Client, "bearer", "tok-123-secret")
}

func TestBrokerUnreachableThenReachable(t *testing.T) {
	env := controlPlane(t)
	broker := testbroker.Start(t, testbroker.Options{Catalog: uniqueCatalog("down"), Auth: testbroker.Auth{Username: "u", Password: "p"}})
	broker.Stop()
	authedClusterBroker(t, env, "down", scv1beta1.CommonServiceBrokerSpec{URL: broker.URL()})
	b := waitBrokerCondition(t, env.Client, "down", scv1beta1.ConditionFalse, scv1beta1.ReasonErrorFetchingCatalog)
	if msg := b.Status.GetCondition(scv1beta1.ServiceBrokerConditionReady).Message; !strings.Contains(msg, "cannot reach the broker at "+broker.URL()) {
		t.Errorf("message %q", msg)
	}
	if err := broker.Restart(); err != nil {
		t.Fatal(err)
	}
	// No credentials configured: the broker answers 401 once it is back.
	b = waitBrokerCondition(t, env.Client, "down", scv1beta1.ConditionFalse, scv1beta1.ReasonErrorFetchingCatalog)
	eventually(t, 10*time.Second, "401 reported", func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Name: "down"}, b); err != nil {
			return err
		}
		if msg := b.Status.GetCondition(scv1beta1.ServiceBrokerConditionReady).Message; !strings.Contains(msg, "HTTP 401") {
			return fmt.Errorf("message %q", msg)
		}
		return nil
	})
	broker.SetAuth(testbroker.Auth{Username: testbroker.DefaultUsername, Password: testbroker.DefaultPassword})
	waitBrokerCondition(t, env.Client, "down", scv1beta1.ConditionTrue, scv1beta1.ReasonFetchedCatalog)
}

func TestBrokerTLS(t *testing.T) {
	env := controlPlane(t)
	broker := testbroker.Start(t, testbroker.Options{Catalog: uniqueCatalog("tls"), TLS: true})
	authedClusterBroker(t, env, "tls", scv1beta1.CommonServiceBrokerSpec{URL: broker.URL()})
	b := waitBrokerCondition(t, env.Client, "tls", scv1beta1.ConditionFalse, scv1beta1.ReasonErrorFetchingCatalog)
	if msg := b.Status.GetCondition(scv1beta1.ServiceBrokerConditionReady).Message; !strings.Contains(msg, "TLS verification") || !strings.Contains(msg, "spec.caBundle") {
		t.Errorf("message %q should point at caBundle", msg)
	}
	patchBroker(t, env.Client, "tls", func(b *scv1beta1.ClusterServiceBroker) { b.Spec.CABundle = broker.CAPEM() })
	waitBrokerCondition(t, env.Client, "tls", scv1beta1.ConditionTrue, scv1beta1.ReasonFetchedCatalog)
}

func TestBrokerInvalidCatalog(t *testing.T) {
	env := controlPlane(t)
	bad := uniqueCatalog("invalid")
	bad[0].Plans[1].ID = bad[0].Plans[0].ID
	broker := testbroker.Start(t, testbroker.Options{Catalog: bad})
	authedClusterBroker(t, env, "invalid", scv1beta1.CommonServiceBrokerSpec{URL: broker.URL()})
	b := waitBrokerCondition(t, env.Client, "invalid", scv1beta1.ConditionFalse, scv1beta1.ReasonErrorSyncingCatalog)
	if msg := b.Status.GetCondition(scv1beta1.ServiceBrokerConditionReady).Message; !strings.Contains(msg, "invalid-plan-small") {
		t.Errorf("message %q should name the duplicated ID", msg)
	}
	if got := catalogOf(t, env.Client, "invalid"); len(got) != 0 {
		t.Errorf("an invalid catalog was applied: %v", got)
	}
	if err := broker.SetCatalog(uniqueCatalog("invalid")); err != nil {
		t.Fatal(err)
	}
	waitBrokerCondition(t, env.Client, "invalid", scv1beta1.ConditionTrue, scv1beta1.ReasonFetchedCatalog)
}

func TestRelistByRequestsAndByDuration(t *testing.T) {
	env := controlPlane(t)
	broker := testbroker.Start(t, testbroker.Options{Catalog: uniqueCatalog("relist")})
	authedClusterBroker(t, env, "relist", scv1beta1.CommonServiceBrokerSpec{URL: broker.URL(), RelistBehavior: scv1beta1.ServiceBrokerRelistBehaviorManual})
	waitBrokerCondition(t, env.Client, "relist", scv1beta1.ConditionTrue, scv1beta1.ReasonFetchedCatalog)

	cat := uniqueCatalog("relist")
	cat[0].Plans = append(cat[0].Plans, osb.Plan{ID: "relist-plan-medium", Name: "medium", Description: "Medium"})
	if err := broker.SetCatalog(cat); err != nil {
		t.Fatal(err)
	}
	wantPlans := func(want ...string) func() error {
		return func() error {
			got := catalogOf(t, env.Client, "relist")["relist-kafka"]
			sort.Strings(got)
			sort.Strings(want)
			if !reflect.DeepEqual(got, want) {
				return fmt.Errorf("plans %v, want %v", got, want)
			}
			return nil
		}
	}
	// Manual: nothing changes until relistRequests goes up.
	time.Sleep(time.Second)
	if err := wantPlans("large", "small")(); err != nil {
		t.Fatalf("a Manual broker relisted on its own: %v", err)
	}
	patchBroker(t, env.Client, "relist", func(b *scv1beta1.ClusterServiceBroker) { b.Spec.RelistRequests = 1 })
	eventually(t, 10*time.Second, "relist on relistRequests", wantPlans("large", "medium", "small"))

	// Duration: a new plan appears within relistDuration, with no spec change.
	patchBroker(t, env.Client, "relist", func(b *scv1beta1.ClusterServiceBroker) {
		b.Spec.RelistBehavior = scv1beta1.ServiceBrokerRelistBehaviorDuration
		b.Spec.RelistDuration = &metav1.Duration{Duration: time.Second}
	})
	waitBrokerCondition(t, env.Client, "relist", scv1beta1.ConditionTrue, scv1beta1.ReasonFetchedCatalog)
	cat[0].Plans = append(cat[0].Plans, osb.Plan{ID: "relist-plan-xl", Name: "xl", Description: "XL"})
	if err := broker.SetCatalog(cat); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "relist by duration", wantPlans("large", "medium", "small", "xl"))
}

func TestCatalogRestrictions(t *testing.T) {
	env := controlPlane(t)
	cat := append(uniqueCatalog("restrict"), uniqueCatalog("restrict2")...)
	broker := testbroker.Start(t, testbroker.Options{Catalog: cat})
	authedClusterBroker(t, env, "restrict", scv1beta1.CommonServiceBrokerSpec{URL: broker.URL(), CatalogRestrictions: &scv1beta1.CatalogRestrictions{
		ServiceClass: []string{"spec.externalName in (restrict-kafka)"},
		ServicePlan:  []string{"spec.free==true"},
	}})
	waitBrokerCondition(t, env.Client, "restrict", scv1beta1.ConditionTrue, scv1beta1.ReasonFetchedCatalog)
	if got := catalogOf(t, env.Client, "restrict"); !reflect.DeepEqual(got, map[string][]string{"restrict-kafka": {"small"}}) {
		t.Errorf("catalog after restrictions: %v", got)
	}
	// A typo in a restriction is reported, not silently matching nothing.
	patchBroker(t, env.Client, "restrict", func(b *scv1beta1.ClusterServiceBroker) {
		b.Spec.CatalogRestrictions.ServicePlan = []string{"spec.fre==true"}
	})
	b := waitBrokerCondition(t, env.Client, "restrict", scv1beta1.ConditionFalse, scv1beta1.ReasonErrorInvalidCatalogRestrictions)
	if msg := b.Status.GetCondition(scv1beta1.ServiceBrokerConditionReady).Message; !strings.Contains(msg, `unknown property "spec.fre"`) {
		t.Errorf("message %q", msg)
	}
}

func TestEntryRemovedFromCatalog(t *testing.T) {
	env := controlPlane(t)
	ns := env.Namespace(t)
	ctx := context.Background()
	broker := testbroker.Start(t, testbroker.Options{Catalog: uniqueCatalog("removed")})
	authedClusterBroker(t, env, "removed", scv1beta1.CommonServiceBrokerSpec{URL: broker.URL(), RelistBehavior: scv1beta1.ServiceBrokerRelistBehaviorManual})
	waitBrokerCondition(t, env.Client, "removed", scv1beta1.ConditionTrue, scv1beta1.ReasonFetchedCatalog)

	// An instance uses the large plan (by the lookup label instances carry).
	inst := &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "uses-large",
		Labels: map[string]string{scv1beta1.LabelClusterServicePlanRefName: scv1beta1.LabelValue("removed-plan-large")}},
		Spec: scv1beta1.ServiceInstanceSpec{PlanReference: scv1beta1.PlanReference{ClusterServiceClassExternalName: "removed-kafka", ClusterServicePlanExternalName: "large"}}}
	if err := env.Client.Create(ctx, inst); err != nil {
		t.Fatal(err)
	}
	cat := uniqueCatalog("removed")
	cat[0].Plans = cat[0].Plans[:1]
	if err := broker.SetCatalog(cat); err != nil {
		t.Fatal(err)
	}
	patchBroker(t, env.Client, "removed", func(b *scv1beta1.ClusterServiceBroker) { b.Spec.RelistRequests++ })
	plan := &scv1beta1.ClusterServicePlan{}
	eventually(t, 10*time.Second, "plan marked removed", func() error {
		if err := env.Client.Get(ctx, client.ObjectKey{Name: "removed-plan-large"}, plan); err != nil {
			return err
		}
		if !plan.Status.RemovedFromBrokerCatalog {
			return fmt.Errorf("not marked")
		}
		return nil
	})
	// Still used: it stays. Unused (the instance goes): it is deleted at the
	// next relist.
	if err := env.Client.Delete(ctx, inst); err != nil {
		t.Fatal(err)
	}
	waitGone(t, env.Client, inst)
	patchBroker(t, env.Client, "removed", func(b *scv1beta1.ClusterServiceBroker) { b.Spec.RelistRequests++ })
	eventually(t, 10*time.Second, "unused removed plan deleted", func() error {
		err := env.Client.Get(ctx, client.ObjectKey{Name: "removed-plan-large"}, plan)
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there: %v", err)
	})

	// The plan comes back: the object is recreated, the flag is clear.
	if err := broker.SetCatalog(uniqueCatalog("removed")); err != nil {
		t.Fatal(err)
	}
	patchBroker(t, env.Client, "removed", func(b *scv1beta1.ClusterServiceBroker) { b.Spec.RelistRequests++ })
	eventually(t, 10*time.Second, "plan back", func() error {
		if err := env.Client.Get(ctx, client.ObjectKey{Name: "removed-plan-large"}, plan); err != nil {
			return err
		}
		if plan.Status.RemovedFromBrokerCatalog {
			return fmt.Errorf("still marked removed")
		}
		return nil
	})
}

// Two brokers advertising the same IDs: the first keeps its objects, the
// second reports the conflict and applies the rest of its catalog.
func TestTwoBrokersWithTheSameIDs(t *testing.T) {
	env := controlPlane(t)
	first := testbroker.Start(t, testbroker.Options{Catalog: uniqueCatalog("same")})
	authedClusterBroker(t, env, "same-first", scv1beta1.CommonServiceBrokerSpec{URL: first.URL()})
	waitBrokerCondition(t, env.Client, "same-first", scv1beta1.ConditionTrue, scv1beta1.ReasonFetchedCatalog)

	second := testbroker.Start(t, testbroker.Options{Catalog: append(uniqueCatalog("same"), uniqueCatalog("other")...)})
	authedClusterBroker(t, env, "same-second", scv1beta1.CommonServiceBrokerSpec{URL: second.URL()})
	b := waitBrokerCondition(t, env.Client, "same-second", scv1beta1.ConditionTrue, scv1beta1.ReasonFetchedCatalog)
	if len(b.Status.CatalogConflicts) != 1 || b.Status.CatalogConflicts[0].ExternalID != "same-svc" || b.Status.CatalogConflicts[0].OwnerBroker != "same-first" {
		t.Errorf("conflicts: %+v", b.Status.CatalogConflicts)
	}
	if msg := b.Status.GetCondition(scv1beta1.ServiceBrokerConditionReady).Message; !strings.Contains(msg, "1 entries were skipped") {
		t.Errorf("message %q", msg)
	}
	if got := catalogOf(t, env.Client, "same-first"); len(got["same-kafka"]) != 2 {
		t.Errorf("first broker's catalog changed: %v", got)
	}
	if got := catalogOf(t, env.Client, "same-second"); !reflect.DeepEqual(got, map[string][]string{"other-kafka": {"large", "small"}}) {
		t.Errorf("second broker's catalog: %v", got)
	}
	// Deleting the second broker leaves the first broker's objects alone.
	deleteClusterBroker(t, env.Client, "same-second")
	if got := catalogOf(t, env.Client, "same-first"); len(got["same-kafka"]) != 2 {
		t.Errorf("first broker's catalog after deleting the second: %v", got)
	}
}

func TestNamespacedBroker(t *testing.T) {
	env := controlPlane(t)
	ns := env.Namespace(t)
	ctx := context.Background()
	broker := testbroker.Start(t, testbroker.Options{Catalog: uniqueCatalog("nsb")})
	basicSecret(t, env.Client, ns, "creds", testbroker.DefaultUsername, testbroker.DefaultPassword)
	b := &scv1beta1.ServiceBroker{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "team"}, Spec: scv1beta1.ServiceBrokerSpec{
		CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: broker.URL()},
		AuthInfo:                &scv1beta1.ServiceBrokerAuthInfo{Basic: &scv1beta1.BasicAuthConfig{SecretRef: &scv1beta1.LocalObjectReference{Name: "creds"}}}}}
	if err := env.Client.Create(ctx, b); err != nil {
		t.Fatal(err)
	}
	plans := &scv1beta1.ServicePlanList{}
	eventually(t, 20*time.Second, "namespaced plans", func() error {
		if err := env.Client.List(ctx, plans, client.InNamespace(ns)); err != nil {
			return err
		}
		if len(plans.Items) != 2 {
			return fmt.Errorf("%d plans", len(plans.Items))
		}
		return nil
	})
	p := plans.Items[0]
	if p.Spec.ServiceBrokerName != "team" || p.Spec.ServiceClassRef.Name != "nsb-svc" || p.Labels[scv1beta1.LabelServiceBrokerName] != scv1beta1.LabelValue("team") {
		t.Errorf("plan %+v labels %v", p.Spec, p.Labels)
	}
	if err := env.Client.Delete(ctx, b); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "namespaced catalog cleaned up", func() error {
		classes := &scv1beta1.ServiceClassList{}
		if err := env.Client.List(ctx, classes, client.InNamespace(ns)); err != nil {
			return err
		}
		if err := env.Client.List(ctx, plans, client.InNamespace(ns)); err != nil {
			return err
		}
		if n := len(classes.Items) + len(plans.Items); n != 0 {
			return fmt.Errorf("%d objects remain", n)
		}
		return nil
	})
}

func TestOSBMetrics(t *testing.T) {
	env := controlPlane(t)
	broker := testbroker.Start(t, testbroker.Options{Catalog: uniqueCatalog("metrics")})
	authedClusterBroker(t, env, "metrics", scv1beta1.CommonServiceBrokerSpec{URL: broker.URL()})
	waitBrokerCondition(t, env.Client, "metrics", scv1beta1.ConditionTrue, scv1beta1.ReasonFetchedCatalog)
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			if labelValue(m, "broker") == "ClusterServiceBroker/metrics" && labelValue(m, "operation") == "get_catalog" && labelValue(m, "code") == "2xx" {
				switch f.GetName() {
				case "svcat_osb_requests_total":
					found[f.GetName()] = m.GetCounter().GetValue() >= 1
				case "svcat_osb_request_duration_seconds":
					found[f.GetName()] = m.GetHistogram().GetSampleCount() >= 1
				}
			}
		}
		if f.GetName() == "controller_runtime_reconcile_time_seconds" {
			found[f.GetName()] = true
		}
	}
	for _, name := range []string{"svcat_osb_requests_total", "svcat_osb_request_duration_seconds", "controller_runtime_reconcile_time_seconds"} {
		if !found[name] {
			t.Errorf("metric %s missing or not counting", name)
		}
	}
}

// authedClusterBroker creates a ClusterServiceBroker with the test broker's
// default credentials in a Secret of its own namespace.
func authedClusterBroker(t *testing.T, env *localcluster.Env, name string, spec scv1beta1.CommonServiceBrokerSpec) *scv1beta1.ClusterServiceBroker {
	t.Helper()
	ns := env.Namespace(t)
	basicSecret(t, env.Client, ns, "broker-creds", testbroker.DefaultUsername, testbroker.DefaultPassword)
	return clusterBroker(t, env.Client, name, scv1beta1.ClusterServiceBrokerSpec{CommonServiceBrokerSpec: spec,
		AuthInfo: &scv1beta1.ClusterServiceBrokerAuthInfo{Basic: &scv1beta1.ClusterBasicAuthConfig{SecretRef: &scv1beta1.ObjectReference{Namespace: ns, Name: "broker-creds"}}}})
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
