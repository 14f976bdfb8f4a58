package ui_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// chromium finds the browser: $SVCAT_CHROMIUM, or Debian's chromium.
func chromium() string {
	if p := os.Getenv("SVCAT_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// screenshotsDir is where the flow's screenshots go when
// SVCAT_UI_SCREENSHOTS=1: docs/ui, shown in docs/ui.md. CI leaves it unset
// so a run does not rewrite them.
func screenshotsDir(t *testing.T) string {
	if os.Getenv("SVCAT_UI_SCREENSHOTS") != "1" {
		return ""
	}
	dir, err := filepath.Abs("../../docs/ui")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// newBrowser starts one headless Chromium with the flags this machine
// needs (no sandbox as root, no background traffic to the closed network)
// and a fresh profile.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromium()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("Chromium is not installed, and CI=true requires the browser tests: apt-get install -y chromium (or set SVCAT_CHROMIUM)")
		}
		t.Skip("SKIPPED: Chromium is not installed, so the browser test of svcat ui does not run. Install Debian's chromium (apt-get install -y chromium) or set SVCAT_CHROMIUM to a Chrome binary")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 1300),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser and lives as long as ctx.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}

// setInput replaces an input's value as typing would, input event included.
func setInput(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %q; e.dispatchEvent(new Event('input', {bubbles: true})); return true })()`, sel, value)
		_, err := chromedp.Evaluate[bool](js)(ctx, tg)
		return err
	})
}

// stepper runs one step of a flow in the browser, bounded by a minute,
// and fails the test with the page when it does not complete.
func stepper(t *testing.T, ctx context.Context) func(what string, actions ...chromedp.Action[chromedp.Void]) {
	return func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
			t.Fatalf("%s: %v\npage:\n%s", what, err, html)
		}
	}
}

// shooter saves the page as shots/NAME.png; nothing when shots is empty.
func shooter(t *testing.T, ctx context.Context, shots string) func(name string) {
	return func(name string) {
		t.Helper()
		if shots == "" {
			return
		}
		// The viewport only: a capture beyond it (FullScreenshot) leaves
		// headless Chromium's layout such that later clicks miss.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("(() => { window.scrollTo(0, 0); return true })()")); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBrowserSeedFlow drives a real Chromium through the seed's flow:
// open the marketplace, provision cloudkarafka/duck through the form,
// watch it turn Ready without a reload, bind it, see the Secret's name,
// unbind, deprovision.
func TestBrowserSeedFlow(t *testing.T) {
	env := localcluster.Get(t)
	start := time.Now()
	ctx := newBrowser(t)
	t.Logf("Chromium started in %s", time.Since(start).Round(time.Millisecond))
	catalogFixture(t, env)
	shots := screenshotsDir(t)
	ns := env.Namespace(t)
	if shots != "" {
		// The documentation's pictures show the namespace people use; the
		// flow deletes what it makes.
		ns = "default"
	}
	u := startUI(t, env.Config, ns)
	// Provisioning takes a few seconds at the broker, so the page shows it
	// in progress first and the live update is seen.
	fixtureBroker.On(testbroker.Rule{Operation: osb.OpProvision, Async: true, AsyncDelay: 3 * time.Second, Times: 1})
	t.Cleanup(fixtureBroker.ClearRules)

	step := stepper(t, ctx)
	text := func(sel string) string {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		// Read in one evaluation: a live region may be swapped between a
		// query and a read by node.
		js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.innerText : "(no element " + %q + ")" })()`, sel, sel)
		s, err := chromedp.Run(sctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	shot := shooter(t, ctx, shots)
	page := func() string {
		s, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
		return s
	}
	flow := time.Now()

	// The marketplace, reached through the URL svcat ui prints.
	cloudkarafka := chromedp.CSS(`section.class[data-class="cloudkarafka"]`)
	step("open the marketplace", chromedp.Navigate(u.base+"/?token="+url.QueryEscape(u.srv.Token())), chromedp.WaitVisible(cloudkarafka))
	if got := text(`article.plan[data-plan="duck"]`); !strings.Contains(got, "Max 5 topics") || !strings.Contains(got, "0 USD / monthly") {
		t.Errorf("the duck plan shows %q", got)
	}
	step("filter the marketplace", chromedp.SendKeys(chromedp.CSS("#filter"), "postgres"), chromedp.WaitNotVisible(cloudkarafka))
	step("change the filter", setInput("#filter", "duck kafka"), chromedp.WaitVisible(cloudkarafka))
	shot("marketplace")

	// The form from the plan's schema; the browser refuses what the schema
	// refuses before anything is sent.
	step("open the provision form", chromedp.Click(chromedp.CSS(`article.plan[data-plan="duck"] a.button`)), chromedp.WaitVisible(chromedp.CSS("#provision")))
	step("submit without the required topic prefix",
		chromedp.SendKeys(chromedp.CSS("#name"), "demo-kafka"),
		chromedp.Click(chromedp.CSS("#submit")),
		chromedp.WaitVisible(chromedp.CSS("#client-errors")))
	if got := text("#client-errors"); !strings.Contains(got, "Topic prefix") {
		t.Errorf("the browser's refusal says %q, want it to name Topic prefix", got)
	}
	shot("provision-refused")
	step("fill in the form",
		chromedp.SendKeys(chromedp.CSS(`[name="p/topicPrefix"]`), "demo"),
		chromedp.SendKeys(chromedp.CSS(`[name="p/topics"]`), "orders\npayments"),
		chromedp.SendKeys(chromedp.CSS(`[name="p/limits/maxTopics"]`), "3"))
	shot("provision")
	step("provision", chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#live #status")))
	if got := text("#live #status .status"); got == "Ready" {
		t.Errorf("the instance is Ready on arrival; the broker was scripted to take 3s")
	}
	// A marker on the page survives only if the page is not reloaded.
	step("mark the page", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool]("window.noReload = true")(ctx, tg)
		return err
	}))
	step("watch it turn Ready", chromedp.WaitVisible(chromedp.CSS(`#live[data-updated] #status .status.ready`)))
	if still, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("window.noReload === true")); err != nil || !still {
		t.Errorf("the page was reloaded to show Ready (%v)", err)
	}
	if got := text("#parameters"); !strings.Contains(got, `"topics": [`) || !strings.Contains(got, `"retentionDays": 7`) {
		t.Errorf("parameters shown: %s", got)
	}
	shot("instance")

	// Bind with the seed's names, and see the Secret's name once the
	// binding is Ready.
	step("bind",
		setInput("#binding", "demo-kafka-binding"),
		chromedp.SendKeys(chromedp.CSS("#secretName"), "demo-kafka-secret"),
		chromedp.Click(chromedp.CSS("#bind-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#live #status .status.ready`)),
		chromedp.WaitVisible(chromedp.CSS("#secret-keys")))
	if got := text("#secret-name"); got != "demo-kafka-secret" {
		t.Errorf("the binding's Secret is shown as %q", got)
	}
	shot("binding")
	var secret corev1.Secret
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "demo-kafka-secret"}, &secret); err != nil {
		t.Fatal(err)
	}
	password := string(secret.Data["password"])
	if password == "" || strings.Contains(page(), password) {
		t.Errorf("the binding page shows the password (or there is none: %q)", password)
	}
	step("the instances list", chromedp.Navigate(u.base+"/instances"), chromedp.WaitVisible(chromedp.CSS(`tr[data-name="demo-kafka"] .status.ready`)))
	shot("instances")
	step("the bindings list", chromedp.Navigate(u.base+"/bindings"), chromedp.WaitVisible(chromedp.CSS(`tr[data-name="demo-kafka-binding"] .status.ready`)))
	if strings.Contains(page(), password) {
		t.Errorf("the bindings page shows the password")
	}
	shot("bindings")

	// Unbind and deprovision, each confirmed; the pages follow live.
	step("unbind",
		chromedp.Navigate(u.base+"/bindings/demo-kafka-binding"),
		chromedp.Click(chromedp.CSS("#action-unbind")),
		chromedp.WaitVisible(chromedp.CSS("#confirm")))
	shot("confirm-unbind")
	step("confirm unbind", chromedp.Click(chromedp.CSS("#confirm-submit")), chromedp.WaitVisible(chromedp.CSS("#live #gone")))
	step("deprovision",
		chromedp.Navigate(u.base+"/instances/demo-kafka"),
		chromedp.WaitNotPresent(chromedp.CSS(`#instance-bindings tr[data-name="demo-kafka-binding"]`)),
		chromedp.Click(chromedp.CSS("#action-deprovision")),
		chromedp.WaitVisible(chromedp.CSS("#confirm")),
		chromedp.Click(chromedp.CSS("#confirm-submit")),
		chromedp.WaitVisible(chromedp.CSS("#live #gone")))
	// The script hides the actions as it swaps in #gone; a page rendered
	// after the instance went has none (waiting for them to hide would
	// wait for ever).
	if hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const a = document.getElementById("actions"); return !a || a.hidden })()`)); err != nil || !hidden {
		t.Errorf("the deprovisioned instance's page still offers actions (%v)", err)
	}
	shot("deprovisioned")
	t.Logf("the seed's flow took %s in the browser (%s with Chromium's start)", time.Since(flow).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// TestBrowserSharing drives Chromium through sharing an instance: the
// owner shares it from its page and sees the share turn Shared live; the
// consuming namespace lists it as shared from the owner and binds to it;
// the owner unshares after the confirmation.
func TestBrowserSharing(t *testing.T) {
	env := localcluster.Get(t)
	ctx := newBrowser(t)
	catalogFixture(t, env)
	bctx := context.Background()
	shots := screenshotsDir(t)
	owner, consumer := env.Namespace(t), env.Namespace(t)
	if shots != "" {
		owner, consumer = "default", "analytics"
		if err := env.Client.Create(bctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: consumer}}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	_, br := namespacedBroker(t, env, owner, "sharekafka", shareCatalog())
	orders := &v1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: owner, Name: "orders"}}
	orders.Spec.ServiceClassExternalName, orders.Spec.ServicePlanExternalName = "uishare", "duck"
	if err := env.Client.Create(bctx, orders); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = env.Client.Delete(bctx, &v1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: consumer, Name: "orders"}})
		_ = env.Client.Delete(bctx, orders)
		_ = env.Client.Delete(bctx, br)
	})
	o, c := startUI(t, env.Config, owner), startUI(t, env.Config, consumer)

	step := stepper(t, ctx)
	shot := shooter(t, ctx, shots)
	// Both servers answer on 127.0.0.1, where cookies ignore the port: each
	// is logged in with its token when it is used.
	login := func(u *uiServer, path string) chromedp.Action[chromedp.Void] {
		return chromedp.Navigate(u.base + path + "?token=" + url.QueryEscape(u.srv.Token()))
	}
	shared := chromedp.CSS(`#shares tr[data-namespace="` + consumer + `"]`)
	step("share",
		login(o, "/instances/orders"),
		chromedp.WaitVisible(chromedp.CSS(`#live #status .status.ready`)),
		chromedp.SendKeys(chromedp.CSS("#share-namespace"), consumer),
		chromedp.Click(chromedp.CSS("#share-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#shares tr[data-namespace="`+consumer+`"] .status.ready`)))
	shot("share")

	// Links inside a live region are clicked once the stream's first
	// rendering has replaced the page's: before, a click can land on a
	// node that is being swapped out.
	step("the consumer's instances",
		login(c, "/instances"),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-updated] tr[data-shared="`+owner+`/orders"] .status.shared`)))
	shot("shared-instances")
	step("bind from the consumer",
		chromedp.Click(chromedp.CSS(`tr[data-shared="`+owner+`/orders"] a`)),
		chromedp.WaitVisible(chromedp.CSS("#shared-from")),
		chromedp.Click(chromedp.CSS("#bind-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#live #status .status.ready`)))
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#binding-instance").innerText`))
	if err != nil || !strings.Contains(got, owner+"/orders") {
		t.Errorf("the binding's instance reads %q (%v)", got, err)
	}

	step("unshare",
		login(o, "/instances/orders"),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-updated] #shares tr[data-namespace="`+consumer+`"] a.button`)),
		chromedp.Click(chromedp.CSS(`#shares tr[data-namespace="`+consumer+`"] a.button`)),
		chromedp.WaitVisible(chromedp.CSS("#confirm")))
	shot("confirm-unshare")
	step("confirm unshare",
		chromedp.Click(chromedp.CSS("#confirm-submit")),
		chromedp.WaitVisible(chromedp.CSS("#live #status")),
		chromedp.WaitNotPresent(shared))
}
