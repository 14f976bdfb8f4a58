// Command controller benchmarks the catalog-controller: N instances and N
// bindings created at once against a real kube-apiserver and a fast
// in-process broker, until every instance and binding is Ready and every
// binding Secret exists. It reports the time, the API writes per object
// (from the API server's apiserver_request_total) and the controller's peak
// RSS, and, on the same API server just before, the floor: a plain client
// with no client-side rate limit doing only the writes nobody can avoid
// (create the instance, record it Ready; create the binding, create its
// Secret, record it Ready), and the full floor: the floor plus the writes
// any crash-safe controller that reports to users makes (one write of each
// object's finalizer and external ID before a broker hears of it, one Event
// per object after).
//
// Each N gets a fresh API server, broker and controller process, so rounds
// do not see each other's objects.
//
//	go run ./test/bench/controller -controller bin/catalog-controller -n 100,1000
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/testbroker"
)

var progress *bool

func main() {
	bin := flag.String("controller", "bin/catalog-controller", "catalog-controller binary")
	ns := flag.String("n", "100,1000", "comma-separated numbers of instances (and as many bindings) per round")
	timeout := flag.Duration("timeout", 20*time.Minute, "give up on a round after this long")
	skipFloor := flag.Bool("skip-floor", false, "measure only the controller (for the RSS round)")
	progress = flag.Bool("progress", false, "print progress each second of a round")
	envs := flag.String("controller-env", "", "extra environment for the controller, space-separated NAME=VALUE (GOMEMLIMIT=135MiB, say)")
	args := flag.String("controller-args", "", "extra flags for the controller, space-separated")
	flag.Parse()
	ctrllog.SetLogger(logr.Discard())
	fmt.Printf("| N | floor | full floor | controller | ratio to floor | ratio to full floor | writes/instance | writes/binding (incl. Secret) | events/object | controller peak RSS |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range strings.Split(*ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			fail(err)
		}
		r, err := round(*bin, n, *timeout, *skipFloor, strings.Fields(*args), strings.Fields(*envs))
		if err != nil {
			fail(fmt.Errorf("N=%d: %w", n, err))
		}
		floor, ratio, fullFloor, fullRatio := "-", "-", "-", "-"
		if r.floor > 0 {
			floor, ratio = r.floor.Round(time.Millisecond).String(), fmt.Sprintf("%.2fx", r.controller.Seconds()/r.floor.Seconds())
			fullFloor, fullRatio = r.fullFloor.Round(time.Millisecond).String(), fmt.Sprintf("%.2fx", r.controller.Seconds()/r.fullFloor.Seconds())
		}
		fmt.Printf("| %d | %s | %s | %s | %s | %s | %.2f | %.2f | %.2f | %.0f MiB |\n", n, floor, fullFloor, r.controller.Round(time.Millisecond), ratio, fullRatio,
			float64(r.instanceWrites)/float64(n), float64(r.bindingWrites)/float64(n), float64(r.eventWrites)/float64(2*n), float64(r.peakRSS)/(1<<20))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench-controller:", err)
	os.Exit(1)
}

type result struct {
	floor, fullFloor, controller  time.Duration
	instanceWrites, bindingWrites int
	eventWrites                   int
	peakRSS                       int64
}

func round(bin string, n int, timeout time.Duration, skipFloor bool, controllerArgs, controllerEnv []string) (*result, error) {
	env, err := localcluster.Start()
	if err != nil {
		return nil, err
	}
	defer func() { _ = env.Stop() }()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c := env.Client
	r := &result{}

	// Readiness is watched, not listed over and over: the benchmark must
	// not load the API server the controller is measured against. The
	// floor is timed through the same watch, so both pay for it alike.
	watched, err := cache.New(env.Config, cache.Options{Scheme: env.Scheme, ByObject: map[client.Object]cache.ByObject{
		&corev1.Secret{}: {Label: labels.SelectorFromSet(labels.Set{scv1beta1.LabelManagedBy: scv1beta1.ManagedByValue})},
	}})
	if err != nil {
		return nil, err
	}
	go func() { _ = watched.Start(ctx) }()
	for _, o := range []client.Object{&scv1beta1.ServiceInstance{}, &scv1beta1.ServiceBinding{}, &corev1.Secret{}} {
		if _, err := watched.GetInformer(ctx, o); err != nil {
			return nil, err
		}
	}
	if !watched.WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("cache did not sync")
	}
	if !skipFloor {
		// The first pass warms the API server up (it has just started and
		// is still building its OpenAPI for the CRDs); the second counts.
		if _, err = floor(ctx, c, watched, "warmup", n, false); err != nil {
			return nil, fmt.Errorf("floor: %w", err)
		}
		if r.floor, err = floor(ctx, c, watched, "floor", n, false); err != nil {
			return nil, fmt.Errorf("floor: %w", err)
		}
		if r.fullFloor, err = floor(ctx, c, watched, "fullfloor", n, true); err != nil {
			return nil, fmt.Errorf("full floor: %w", err)
		}
	}

	broker, err := testbroker.New(testbroker.Options{DisableRecording: true})
	if err != nil {
		return nil, err
	}
	defer broker.Close()
	ns := "bench"
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		return nil, err
	}
	if err := c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "broker-creds"},
		Data: map[string][]byte{"username": []byte(testbroker.DefaultUsername), "password": []byte(testbroker.DefaultPassword)}}); err != nil {
		return nil, err
	}
	proc, err := startController(bin, env.Kubeconfig, controllerArgs, controllerEnv)
	if err != nil {
		return nil, err
	}
	defer proc.stop()
	if err := c.Create(ctx, &scv1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{Name: "cloudkarafka"}, Spec: scv1beta1.ClusterServiceBrokerSpec{
		CommonServiceBrokerSpec: scv1beta1.CommonServiceBrokerSpec{URL: broker.URL(), RelistBehavior: scv1beta1.ServiceBrokerRelistBehaviorManual},
		AuthInfo:                &scv1beta1.ClusterServiceBrokerAuthInfo{Basic: &scv1beta1.ClusterBasicAuthConfig{SecretRef: &scv1beta1.ObjectReference{Namespace: ns, Name: "broker-creds"}}}}}); err != nil {
		return nil, err
	}
	if err := waitFor(ctx, func() (bool, error) {
		l := &scv1beta1.ClusterServicePlanList{}
		err := c.List(ctx, l)
		return len(l.Items) > 0, err
	}); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}

	before, err := writes(ctx, env)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	stopProgress := reportProgress(ctx, watched, ns, start)
	if err := parallel(n, func(i int) error {
		if err := retry(func() error {
			return c.Create(ctx, &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("i%d", i)},
				Spec: scv1beta1.ServiceInstanceSpec{PlanReference: scv1beta1.PlanReference{ClusterServiceClassExternalName: "cloudkarafka", ClusterServicePlanExternalName: "duck"}}})
		}); err != nil {
			return err
		}
		return retry(func() error {
			return c.Create(ctx, &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("b%d", i)},
				Spec: scv1beta1.ServiceBindingSpec{InstanceRef: scv1beta1.InstanceReference{Name: fmt.Sprintf("i%d", i)}}})
		})
	}); err != nil {
		return nil, err
	}
	if err := waitFor(ctx, func() (bool, error) { return allReady(ctx, watched, ns, n) }); err != nil {
		return nil, fmt.Errorf("waiting for Ready: %w", err)
	}
	r.controller = time.Since(start)
	stopProgress()
	// Let writes still in flight (the last events) land before counting.
	time.Sleep(time.Second)
	after, err := writes(ctx, env)
	if err != nil {
		return nil, err
	}
	d := after.minus(before)
	if os.Getenv("BENCH_DEBUG") != "" {
		for k, v := range d {
			if v != 0 && strings.Contains(k, " ") {
				fmt.Fprintln(os.Stderr, k, v)
			}
		}
	}
	// The benchmark's own writes: one create per instance and per binding.
	r.instanceWrites = d["serviceinstances"] - n
	r.bindingWrites = d["servicebindings"] + d["secrets"] - n
	r.eventWrites = d["events"]
	r.peakRSS = proc.peakRSS()
	return r, nil
}

// floor does, for n instances and n bindings at once, only the writes that
// cannot be avoided, with a client that has no client-side rate limit.
// With full, it also makes the writes any crash-safe controller that
// reports to users must make, as the catalog-controller does them: before
// a broker hears of an object, one write of its finalizer and external ID
// (and, for an instance, its resolved class and plan); after, one Event per
// object saying how it went.
func floor(ctx context.Context, c client.Client, watched client.Reader, ns string, n int, full bool) (time.Duration, error) {
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		return 0, err
	}
	now := metav1.Now()
	start := time.Now()
	err := parallel(n, func(i int) error {
		inst := &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("i%d", i)},
			Spec: scv1beta1.ServiceInstanceSpec{PlanReference: scv1beta1.PlanReference{ClusterServiceClassExternalName: "cloudkarafka", ClusterServicePlanExternalName: "duck"}}}
		if err := retry(func() error { return c.Create(ctx, inst) }); err != nil {
			return err
		}
		if full {
			inst.Finalizers = []string{floorFinalizer}
			inst.Spec.ExternalID = uuid.NewString()
			inst.Spec.ClusterServiceClassRef = &scv1beta1.ClusterObjectReference{Name: testbroker.SeedServiceID}
			inst.Spec.ClusterServicePlanRef = &scv1beta1.ClusterObjectReference{Name: testbroker.SeedPlanID}
			inst.Labels = map[string]string{
				scv1beta1.LabelClusterServiceClassRefName: scv1beta1.LabelValue(testbroker.SeedServiceID),
				scv1beta1.LabelClusterServicePlanRefName:  scv1beta1.LabelValue(testbroker.SeedPlanID),
			}
			if err := retryUpdate(ctx, c, inst); err != nil {
				return err
			}
		}
		unready := inst.DeepCopy()
		inst.Status.Conditions = []scv1beta1.ServiceInstanceCondition{{Type: scv1beta1.ServiceInstanceConditionReady, Status: "True", LastTransitionTime: now,
			Reason: "ProvisionedSuccessfully", Message: "The instance was provisioned successfully"}}
		inst.Status.ProvisionStatus = scv1beta1.ServiceInstanceProvisionStatusProvisioned
		if err := retry(func() error { return c.Status().Patch(ctx, inst.DeepCopy(), client.MergeFrom(unready)) }); err != nil {
			return err
		}
		if full {
			if err := retry(func() error {
				return c.Create(ctx, floorEvent(inst, "ServiceInstance", "ProvisionedSuccessfully", "The instance was provisioned successfully"))
			}); err != nil {
				return err
			}
		}
		b := &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("b%d", i)},
			Spec: scv1beta1.ServiceBindingSpec{InstanceRef: scv1beta1.InstanceReference{Name: inst.Name}}}
		if err := retry(func() error { return c.Create(ctx, b) }); err != nil {
			return err
		}
		if full {
			b.Finalizers = []string{floorFinalizer}
			b.Spec.ExternalID = uuid.NewString()
			b.Spec.SecretName = b.Name
			if err := retryUpdate(ctx, c, b); err != nil {
				return err
			}
		}
		creds := testbroker.SeedCredentials(inst.Name, b.Name)
		data := map[string][]byte{}
		for k, v := range creds {
			data[k] = []byte(fmt.Sprint(v))
		}
		if err := retry(func() error {
			return c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: b.Name,
				Labels: map[string]string{scv1beta1.LabelManagedBy: scv1beta1.ManagedByValue}}, Data: data})
		}); err != nil {
			return err
		}
		unbound := b.DeepCopy()
		b.Status.Conditions = []scv1beta1.ServiceBindingCondition{{Type: scv1beta1.ServiceBindingConditionReady, Status: "True", LastTransitionTime: now,
			Reason: "InjectedBindResult", Message: "Injected bind result"}}
		if err := retry(func() error { return c.Status().Patch(ctx, b.DeepCopy(), client.MergeFrom(unbound)) }); err != nil {
			return err
		}
		if full {
			return retry(func() error {
				return c.Create(ctx, floorEvent(b, "ServiceBinding", "InjectedBindResult", "Injected bind result"))
			})
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if err := waitFor(ctx, func() (bool, error) { return allReady(ctx, watched, ns, n) }); err != nil {
		return 0, err
	}
	took := time.Since(start)
	// Gone before the controller starts.
	if full {
		if err := dropFinalizers(ctx, c, ns, n); err != nil {
			return 0, err
		}
	}
	if err := c.DeleteAllOf(ctx, &scv1beta1.ServiceBinding{}, client.InNamespace(ns)); err != nil {
		return 0, err
	}
	if err := c.DeleteAllOf(ctx, &scv1beta1.ServiceInstance{}, client.InNamespace(ns)); err != nil {
		return 0, err
	}
	return took, c.DeleteAllOf(ctx, &corev1.Secret{}, client.InNamespace(ns))
}

// floorFinalizer is not the controller's: the floor's objects must not look
// like objects the controller has to deprovision.
const floorFinalizer = "bench.svcat.io/floor"

// floorEvent is an Event like the one the controller's recorder writes.
func floorEvent(regarding client.Object, kind, reason, note string) *eventsv1.Event {
	return &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{Namespace: regarding.GetNamespace(), Name: fmt.Sprintf("%s.%x", regarding.GetName(), time.Now().UnixNano())},
		EventTime:  metav1.NowMicro(), ReportingController: "catalog-controller", ReportingInstance: "catalog-controller-bench",
		Action: "Reconcile", Reason: reason, Note: note, Type: corev1.EventTypeNormal,
		Regarding: corev1.ObjectReference{APIVersion: scv1beta1.GroupVersion.String(), Kind: kind, Namespace: regarding.GetNamespace(),
			Name: regarding.GetName(), UID: regarding.GetUID(), ResourceVersion: regarding.GetResourceVersion()},
	}
}

// retryUpdate is retry for an Update: a retried Update whose first attempt
// landed conflicts, and then the object is read again.
func retryUpdate(ctx context.Context, c client.Client, obj client.Object) error {
	want := obj.DeepCopyObject().(client.Object)
	return retry(func() error {
		err := c.Update(ctx, obj)
		if apierrors.IsConflict(err) {
			if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
				return err
			}
			if slices.Contains(obj.GetFinalizers(), floorFinalizer) {
				return nil // an earlier attempt landed, its answer did not
			}
			obj.SetFinalizers(want.GetFinalizers())
		}
		return err
	})
}

// dropFinalizers lets the full floor's objects go.
func dropFinalizers(ctx context.Context, c client.Client, ns string, n int) error {
	patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`))
	return parallel(n, func(i int) error {
		if err := retry(func() error {
			return c.Patch(ctx, &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("i%d", i)}}, patch)
		}); err != nil {
			return err
		}
		return retry(func() error {
			return c.Patch(ctx, &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("b%d", i)}}, patch)
		})
	})
}

// inFlight bounds the requests the benchmark has open at once: the floor
// and the round's creates alike. Without it, 10,000 creates at once make a
// loaded API server drop connections and time requests out.
const inFlight = 500

// parallel runs f(0..n-1), at most inFlight at a time, and returns the
// first error.
func parallel(n int, f func(i int) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, inFlight)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := f(i); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// retry repeats a write that failed without an answer from the API server
// (dropped connection, server-side timeout), as any client would; a create
// whose first attempt got through counts as done.
func retry(write func() error) error {
	var err error
	for attempt := range 5 {
		err = write()
		switch {
		case err == nil, attempt > 0 && apierrors.IsAlreadyExists(err):
			return nil
		case apierrors.IsTimeout(err), apierrors.IsServerTimeout(err), apierrors.IsTooManyRequests(err),
			errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), strings.Contains(err.Error(), "connection reset"):
			time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
			continue
		}
		return err
	}
	return err
}

func waitFor(ctx context.Context, done func() (bool, error)) error {
	for {
		ok, err := done()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func allReady(ctx context.Context, c client.Reader, ns string, n int) (bool, error) {
	st, err := countReady(ctx, c, ns)
	return st.readyInstances >= n && st.readyBindings >= n && st.secrets >= n, err
}

// readiness is what a round has reached in a namespace.
type readiness struct {
	instances, readyInstances int
	bindings, readyBindings   int
	secrets                   int
}

// countReady reads the counts from the benchmark's cache, without copies:
// it runs every 20 ms.
func countReady(ctx context.Context, c client.Reader, ns string) (readiness, error) {
	var r readiness
	insts, bindings, secrets := &scv1beta1.ServiceInstanceList{}, &scv1beta1.ServiceBindingList{}, &corev1.SecretList{}
	if err := c.List(ctx, insts, client.InNamespace(ns), client.UnsafeDisableDeepCopy); err != nil {
		return r, err
	}
	if err := c.List(ctx, bindings, client.InNamespace(ns), client.UnsafeDisableDeepCopy); err != nil {
		return r, err
	}
	if err := c.List(ctx, secrets, client.InNamespace(ns), client.MatchingLabels{scv1beta1.LabelManagedBy: scv1beta1.ManagedByValue}, client.UnsafeDisableDeepCopy); err != nil {
		return r, err
	}
	r.instances, r.bindings, r.secrets = len(insts.Items), len(bindings.Items), len(secrets.Items)
	for _, i := range insts.Items {
		if cond := i.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady); cond != nil && cond.Status == "True" {
			r.readyInstances++
		}
	}
	for _, b := range bindings.Items {
		if cond := b.Status.GetCondition(scv1beta1.ServiceBindingConditionReady); cond != nil && cond.Status == "True" {
			r.readyBindings++
		}
	}
	return r, nil
}

// writeCounts are write requests (POST, PUT, PATCH, DELETE, APPLY) the API
// server has answered, by resource (a subresource counts for its resource).
type writeCounts map[string]int

func (w writeCounts) minus(o writeCounts) writeCounts {
	out := writeCounts{}
	for k, v := range w {
		out[k] = v - o[k]
	}
	return out
}

var requestTotal = regexp.MustCompile(`^apiserver_request_total\{(.*)\} (\S+)$`)
var label = regexp.MustCompile(`(\w+)="([^"]*)"`)

func writes(ctx context.Context, env *localcluster.Env) (writeCounts, error) {
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		return nil, err
	}
	raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	out := writeCounts{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := requestTotal.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		labels := map[string]string{}
		for _, l := range label.FindAllStringSubmatch(m[1], -1) {
			labels[l[1]] = l[2]
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			return nil, err
		}
		switch labels["verb"] {
		case "POST", "PUT", "PATCH", "DELETE", "APPLY":
			out[labels["resource"]] += int(v)
		}
		if os.Getenv("BENCH_DEBUG") != "" {
			out[labels["resource"]+"/"+labels["subresource"]+" "+labels["verb"]+" "+labels["code"]] += int(v)
		}
	}
	return out, sc.Err()
}

// controllerProcess is the catalog-controller under test, in its own
// process so its RSS is its own.
type controllerProcess struct {
	cmd *exec.Cmd
}

func startController(bin, kubeconfig string, extra, extraEnv []string) (*controllerProcess, error) {
	cmd := exec.Command(bin, append([]string{"--leader-elect=false", "--metrics-bind-address=0", "--health-probe-bind-address=0", "--refuse-loopback-broker-urls=false", "--cluster-id=bench"}, extra...)...)
	cmd.Env = append(append(os.Environ(), "KUBECONFIG="+kubeconfig), extraEnv...)
	cmd.Stderr = os.Stderr
	if os.Getenv("BENCH_CONTROLLER_LOGS") == "" {
		cmd.Stderr = nil
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &controllerProcess{cmd: cmd}, nil
}

// peakRSS is the process's high-water resident set (VmHWM), in bytes.
func (p *controllerProcess) peakRSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return -1
}

func (p *controllerProcess) stop() {
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

// reportProgress prints, each second while a round runs and -progress is
// set, how many instances and bindings are Ready and how many Secrets
// exist: where the time goes.
func reportProgress(ctx context.Context, c client.Reader, ns string, start time.Time) (stop func()) {
	if !*progress {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			r, err := countReady(ctx, c, ns)
			if err != nil {
				continue
			}
			fmt.Fprintf(os.Stderr, "%6.1fs instances %d/%d Ready, bindings %d/%d Ready, secrets %d\n",
				time.Since(start).Seconds(), r.readyInstances, r.instances, r.readyBindings, r.bindings, r.secrets)
		}
	}()
	return cancel
}
