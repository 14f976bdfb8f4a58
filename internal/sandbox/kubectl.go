package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/util/jsonpath"

	"github.com/svcat-io/svcat/internal/localcluster"
)

// kubectl runs the kubectl commands of the walkthrough: the real kubectl
// when there is one, or a built-in stand-in that sends the same API
// requests and prints kubectl's formats, so that a machine with nothing but
// this repository can run the demo.
type kubectl interface {
	// describe says which one runs, for the transcript.
	describe() string
	run(ctx context.Context, args ...string) (string, error)
}

func newKubectl(mode string, env *localcluster.Env, kubeconfig, root string) (kubectl, error) {
	switch mode {
	case "", "auto":
		if path, err := exec.LookPath("kubectl"); err == nil {
			return execKubectl{path: path, kubeconfig: kubeconfig, root: root}, nil
		}
		return newBuiltin(env.Config, root, "no kubectl on PATH")
	case "builtin":
		return newBuiltin(env.Config, root, "--kubectl builtin")
	default:
		if _, err := os.Stat(mode); err != nil {
			return nil, fmt.Errorf("--kubectl %s: %w", mode, err)
		}
		return execKubectl{path: mode, kubeconfig: kubeconfig, root: root}, nil
	}
}

type execKubectl struct{ path, kubeconfig, root string }

func (k execKubectl) describe() string { return "kubectl (" + k.path + ")" }

func (k execKubectl) run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, k.path, args...)
	// KUBECONFIG rather than --kubeconfig: some kubectl wrappers refuse
	// global flags before the subcommand.
	cmd.Env = append(os.Environ(), "KUBECONFIG="+k.kubeconfig)
	cmd.Dir = k.root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// builtin is the stand-in for the handful of kubectl commands the
// walkthrough uses.
type builtin struct {
	cfg    *rest.Config
	root   string
	why    string
	mapper meta.RESTMapper
	dyn    dynamic.Interface
	http   *http.Client
}

func newBuiltin(cfg *rest.Config, root, why string) (*builtin, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	return &builtin{cfg: cfg, root: root, why: why, mapper: mapper, dyn: dyn, http: hc}, nil
}

func (b *builtin) describe() string {
	return "svcat-sandbox's built-in stand-in (" + b.why + "): the same API requests, kubectl's output formats"
}

// flags splits kubectl-style arguments into positionals and -n/-o/-f
// values; that is all the walkthrough passes.
type kflags struct {
	pos                     []string
	namespace, output, file string
	literals                []string
}

func parseKFlags(args []string) (kflags, error) {
	var f kflags
	f.namespace = "default"
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := func() (string, error) {
			if k, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(k, "--") {
				return v, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("%s needs a value", a)
			}
			i++
			return args[i], nil
		}
		var err error
		switch {
		case a == "-n" || a == "--namespace" || strings.HasPrefix(a, "--namespace="):
			f.namespace, err = val()
		case a == "-o" || a == "--output" || strings.HasPrefix(a, "--output="):
			f.output, err = val()
		case strings.HasPrefix(a, "-o") && len(a) > 2:
			f.output = a[2:]
		case a == "-f" || a == "--filename" || strings.HasPrefix(a, "--filename="):
			f.file, err = val()
		case strings.HasPrefix(a, "--from-literal="):
			f.literals = append(f.literals, strings.TrimPrefix(a, "--from-literal="))
		case strings.HasPrefix(a, "-"):
			err = fmt.Errorf("the built-in kubectl does not know %s", a)
		default:
			f.pos = append(f.pos, a)
		}
		if err != nil {
			return f, err
		}
	}
	return f, nil
}

func (b *builtin) run(ctx context.Context, args ...string) (string, error) {
	f, err := parseKFlags(args)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	switch {
	case len(f.pos) == 1 && f.pos[0] == "apply" && f.file != "":
		err = b.apply(ctx, &out, f)
	case len(f.pos) == 1 && f.pos[0] == "delete" && f.file != "":
		err = b.delete(ctx, &out, f)
	case len(f.pos) == 4 && f.pos[0] == "create" && f.pos[1] == "secret" && f.pos[2] == "generic":
		err = b.createSecret(ctx, &out, f.namespace, f.pos[3], f.literals)
	case len(f.pos) == 2 && f.pos[0] == "get":
		err = b.get(ctx, &out, f)
	case len(f.pos) == 3 && f.pos[0] == "describe" && f.pos[1] == "secret":
		err = b.describeSecret(ctx, &out, f.namespace, f.pos[2])
	default:
		err = fmt.Errorf("the built-in kubectl cannot run %q", strings.Join(args, " "))
	}
	return out.String(), err
}

func (b *builtin) readObjects(file string) ([]*unstructured.Unstructured, error) {
	if !filepath.IsAbs(file) {
		file = filepath.Join(b.root, file)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
}

// resourceFor maps an object to its resource, and puts namespaced objects
// without a namespace into the command's namespace, as kubectl does.
func (b *builtin) resourceFor(u *unstructured.Unstructured, ns string) (dynamic.ResourceInterface, *meta.RESTMapping, error) {
	gvk := u.GroupVersionKind()
	m, err := b.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, nil, err
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if u.GetNamespace() == "" {
			u.SetNamespace(ns)
		}
		return b.dyn.Resource(m.Resource).Namespace(u.GetNamespace()), m, nil
	}
	return b.dyn.Resource(m.Resource), m, nil
}

// kindName is what kubectl prints for an object: kind.group/name.
func kindName(m *meta.RESTMapping, name string) string {
	k := strings.ToLower(m.GroupVersionKind.Kind)
	if g := m.GroupVersionKind.Group; g != "" {
		k += "." + g
	}
	return k + "/" + name
}

// eachObject calls fn for every object of the -f file, with its resource.
func (b *builtin) eachObject(f kflags, fn func(u *unstructured.Unstructured, ri dynamic.ResourceInterface, m *meta.RESTMapping) error) error {
	objs, err := b.readObjects(f.file)
	if err != nil {
		return err
	}
	for _, u := range objs {
		ri, m, err := b.resourceFor(u, f.namespace)
		if err != nil {
			return err
		}
		if err := fn(u, ri, m); err != nil {
			return err
		}
	}
	return nil
}

func (b *builtin) apply(ctx context.Context, out io.Writer, f kflags) error {
	return b.eachObject(f, func(u *unstructured.Unstructured, ri dynamic.ResourceInterface, m *meta.RESTMapping) error {
		cur, err := ri.Get(ctx, u.GetName(), metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			if _, err := ri.Create(ctx, u, metav1.CreateOptions{FieldManager: "kubectl-client-side-apply"}); err != nil {
				return err
			}
			fmt.Fprintf(out, "%s created\n", kindName(m, u.GetName()))
		case err != nil:
			return err
		default:
			u.SetResourceVersion(cur.GetResourceVersion())
			if _, err := ri.Update(ctx, u, metav1.UpdateOptions{FieldManager: "kubectl-client-side-apply"}); err != nil {
				return err
			}
			fmt.Fprintf(out, "%s configured\n", kindName(m, u.GetName()))
		}
		return nil
	})
}

// delete deletes every object of the file and then waits until all are
// gone, as kubectl's default --wait does. Deleting all first matters: an
// instance's finalizer waits for its bindings, which may come later in the
// file.
func (b *builtin) delete(ctx context.Context, out io.Writer, f kflags) error {
	type gone struct {
		ri   dynamic.ResourceInterface
		name string
	}
	var wait []gone
	err := b.eachObject(f, func(u *unstructured.Unstructured, ri dynamic.ResourceInterface, m *meta.RESTMapping) error {
		if err := ri.Delete(ctx, u.GetName(), metav1.DeleteOptions{}); err != nil {
			return err
		}
		fmt.Fprintf(out, "%s %q deleted\n", strings.TrimSuffix(kindName(m, ""), "/"), u.GetName())
		wait = append(wait, gone{ri, u.GetName()})
		return nil
	})
	if err != nil {
		return err
	}
	for _, g := range wait {
		for {
			_, err := g.ri.Get(ctx, g.name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for %s to be deleted: %w", g.name, ctx.Err())
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}

func (b *builtin) createSecret(ctx context.Context, out io.Writer, ns, name string, literals []string) error {
	data := map[string]any{}
	for _, l := range literals {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return fmt.Errorf("--from-literal %q: want KEY=VALUE", l)
		}
		data[k] = v
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata":   map[string]any{"name": name, "namespace": ns},
		"stringData": data,
	}}
	ri, m, err := b.resourceFor(u, ns)
	if err != nil {
		return err
	}
	if _, err := ri.Create(ctx, u, metav1.CreateOptions{}); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s created\n", kindName(m, name))
	return nil
}

func (b *builtin) get(ctx context.Context, out io.Writer, f kflags) error {
	gvk, err := b.mapper.KindFor(schema.GroupVersionResource{Resource: f.pos[1]})
	if err != nil {
		return err
	}
	m, err := b.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return err
	}
	gvr := m.Resource
	namespaced := m.Scope.Name() == meta.RESTScopeNameNamespace
	if spec, ok := strings.CutPrefix(f.output, "custom-columns="); ok {
		var ri dynamic.ResourceInterface = b.dyn.Resource(gvr)
		if namespaced {
			ri = b.dyn.Resource(gvr).Namespace(f.namespace)
		}
		list, err := ri.List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		return customColumns(out, spec, list.Items)
	}
	if f.output != "" {
		return fmt.Errorf("the built-in kubectl prints tables and custom-columns only, not -o %s", f.output)
	}
	return b.table(ctx, out, gvr, namespaced, f.namespace)
}

// customColumns prints like `kubectl get -o custom-columns=...`: a header
// and one row per object, <none> for missing values, columns three spaces
// apart.
func customColumns(out io.Writer, spec string, items []unstructured.Unstructured) error {
	type col struct {
		header string
		jp     *jsonpath.JSONPath
	}
	var cols []col
	for _, c := range strings.Split(spec, ",") {
		h, path, ok := strings.Cut(c, ":")
		if !ok {
			return fmt.Errorf("custom-columns %q: want HEADER:.path", c)
		}
		jp := jsonpath.New(h).AllowMissingKeys(true)
		if err := jp.Parse("{" + path + "}"); err != nil {
			return err
		}
		cols = append(cols, col{h, jp})
	}
	w := printers.GetNewTabWriter(out)
	headers := make([]string, len(cols))
	for i, c := range cols {
		headers[i] = c.header
	}
	fmt.Fprintln(w, strings.Join(headers, "\t"))
	for _, it := range items {
		cells := make([]string, len(cols))
		for i, c := range cols {
			vals, err := c.jp.FindResults(it.Object)
			if err != nil || len(vals) == 0 || len(vals[0]) == 0 {
				cells[i] = "<none>"
				continue
			}
			var parts []string
			for _, v := range vals[0] {
				parts = append(parts, fmt.Sprint(v.Interface()))
			}
			cells[i] = strings.Join(parts, ",")
		}
		fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
	return w.Flush()
}

// table asks the API server for its Table rendering (the CRDs' printer
// columns) and prints it with kubectl's table printer.
func (b *builtin) table(ctx context.Context, out io.Writer, gvr schema.GroupVersionResource, namespaced bool, ns string) error {
	path := "/apis/" + gvr.Group + "/" + gvr.Version
	if gvr.Group == "" {
		path = "/api/" + gvr.Version
	}
	if namespaced {
		path += "/namespaces/" + ns
	}
	path += "/" + gvr.Resource
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(b.cfg.Host, "/")+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := b.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, body)
	}
	var t metav1.Table
	if err := json.Unmarshal(body, &t); err != nil {
		return err
	}
	if len(t.Rows) == 0 {
		if namespaced {
			fmt.Fprintf(out, "No resources found in %s namespace.\n", ns)
		} else {
			fmt.Fprintln(out, "No resources found")
		}
		return nil
	}
	w := printers.GetNewTabWriter(out)
	if err := printers.NewTablePrinter(printers.PrintOptions{}).PrintObj(&t, w); err != nil {
		return err
	}
	return w.Flush()
}

// describeSecret prints like `kubectl describe secret`: sizes, never
// values. Keys are sorted (kubectl prints them in map order).
func (b *builtin) describeSecret(ctx context.Context, out io.Writer, ns, name string) error {
	u, err := b.dyn.Resource(corev1.SchemeGroupVersion.WithResource("secrets")).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	var sec corev1.Secret
	if err := runtimeFromUnstructured(u, &sec); err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	fmt.Fprintf(w, "Name:\t%s\n", sec.Name)
	fmt.Fprintf(w, "Namespace:\t%s\n", sec.Namespace)
	multiline(w, "Labels", sec.Labels)
	multiline(w, "Annotations", sec.Annotations)
	fmt.Fprintf(w, "\nType:\t%s\n", sec.Type)
	fmt.Fprintf(w, "\nData\n====\n")
	keys := make([]string, 0, len(sec.Data))
	for k := range sec.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%s:\t%d bytes\n", k, len(sec.Data[k]))
	}
	return w.Flush()
}

func multiline(w io.Writer, title string, m map[string]string) {
	if len(m) == 0 {
		fmt.Fprintf(w, "%s:\t<none>\n", title)
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i == 0 {
			fmt.Fprintf(w, "%s:\t%s=%s\n", title, k, m[k])
		} else {
			fmt.Fprintf(w, "\t%s=%s\n", k, m[k])
		}
	}
}

func runtimeFromUnstructured(u *unstructured.Unstructured, into any) error {
	b, err := u.MarshalJSON()
	if err != nil {
		return err
	}
	return json.Unmarshal(b, into)
}

// RunKubectl runs one kubectl command against the sandbox with the given
// kubectl ("auto", "builtin" or a path), for tests that compare the
// built-in stand-in with the real kubectl.
func (s *Sandbox) RunKubectl(ctx context.Context, mode string, args ...string) (string, error) {
	k, err := newKubectl(mode, s.Env, s.Kubeconfig, s.root)
	if err != nil {
		return "", err
	}
	return k.run(ctx, args...)
}

// BuiltinKubectl runs one command with the built-in stand-in against any
// cluster, for `svcat-sandbox kubectl` on machines without kubectl. Relative
// -f paths are read from dir.
func BuiltinKubectl(ctx context.Context, cfg *rest.Config, dir string, args ...string) (string, error) {
	b, err := newBuiltin(cfg, dir, "svcat-sandbox kubectl")
	if err != nil {
		return "", err
	}
	return b.run(ctx, args...)
}
