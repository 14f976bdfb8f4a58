package ui

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/apiview"
)

// An action is something a detail page offers to do to its object. Each
// is one entry here: the pages list the buttons, the confirmation page and
// the POST handler come from the entry. The lifecycle actions the
// controller gains (credential rotation, maintenance upgrades) are one
// more entry each, with their Run.
type action struct {
	// Name is the URL segment: POST /instances/NAME/deprovision.
	Name string
	// Kind is "instances" or "bindings".
	Kind  string
	Label string
	// Confirm, when set, is the question a confirmation page asks first;
	// the POST is refused without confirm=yes.
	Confirm string
	// Danger marks destructive actions (a red button).
	Danger bool
	// OwnForm actions are drawn by the page itself (they take input), not
	// as a plain button.
	OwnForm bool
	// Params are the form values the action takes besides the object's
	// name; a confirmation page carries them over from its query, and
	// Confirm's %q after the name's are filled in from them.
	Params []string
	// Check, when set, refuses Params no Run could act on, before the
	// confirmation page is shown and again before Run.
	Check func(ns string, form url.Values) error
	// Brokered actions make no sense for a user-provided instance (no
	// broker, no plan) and are not offered for one.
	Brokered bool
	Run      func(ctx context.Context, s *Server, ns, name string, form url.Values) (actionResult, error)
}

// actionResult says where the browser goes next, or gives a page to show
// instead (the revealed Secret, which is never behind a URL).
type actionResult struct {
	Redirect string
	Reveal   *revealData
}

const (
	kindInstances = "instances"
	kindBindings  = "bindings"
)

var actions = []action{
	{Name: "bind", Kind: kindInstances, Label: "Bind", OwnForm: true, Run: bindInstance},
	{Name: "update", Kind: kindInstances, Label: "Send update to the broker", Brokered: true, Run: touchInstance},
	{Name: "upgrade", Kind: kindInstances, Label: "Upgrade", Brokered: true, Run: upgradeInstance,
		Confirm: "Upgrade instance %q to its plan's current maintenance version? The broker applies it to the running service (see the UpgradeAvailable condition for what changes)."},
	{Name: "deprovision", Kind: kindInstances, Label: "Deprovision", Danger: true, Run: deprovisionInstance,
		Confirm: "Deprovision instance %q? The broker deletes the service and its data."},
	planAction, shareAction, unshareAction,
	{Name: "abandon", Kind: kindInstances, Label: "Abandon", Danger: true, Run: abandon(kindInstances),
		Confirm: "Abandon instance %q? It is deleted without telling the broker: whatever the broker made is left behind and may still be billed. Delete its bindings first. This is for brokers that are gone or broken."},
	{Name: "rotate", Kind: kindBindings, Label: "Rotate credentials", Run: rotateBinding,
		Confirm: "Rotate the credentials of binding %q? The broker makes new ones, written into the same Secret; the old ones keep working for the grace period (the binding's spec.rotationPolicy.gracePeriod, or the controller's default), then are revoked."},
	{Name: "reveal", Kind: kindBindings, Label: "Reveal credentials", Run: revealSecret,
		Confirm: "Show the credentials of binding %q on the next page? They are read once, shown once and not stored; anyone who can see your screen sees them."},
	{Name: "unbind", Kind: kindBindings, Label: "Unbind", Danger: true, Run: unbindBinding,
		Confirm: "Unbind %q? The broker revokes the credentials and their Secret is deleted."},
	{Name: "abandon", Kind: kindBindings, Label: "Abandon", Danger: true, Run: abandon(kindBindings),
		Confirm: "Abandon binding %q? It is deleted without telling the broker: the credentials stay valid there. This is for brokers that are gone or broken."},
}

func findAction(kind, name string) (action, bool) {
	for _, a := range actions {
		if a.Kind == kind && a.Name == name {
			return a, true
		}
	}
	return action{}, false
}

// actionsFor lists the buttons of a detail page; brokered is false for a
// user-provided instance.
func actionsFor(kind string, brokered bool) []action {
	var out []action
	for _, a := range actions {
		if a.Kind == kind && !a.OwnForm && a.Params == nil && (brokered || !a.Brokered) {
			out = append(out, a)
		}
	}
	return out
}

// Question is the confirmation's question about object name, with the
// action's parameters from form.
func (a action) Question(name string, form url.Values) string {
	args := []any{name}
	for _, p := range a.Params {
		args = append(args, form.Get(p))
	}
	return fmt.Sprintf(a.Confirm, args...)
}

// Carried are the parameters a confirmation page posts again.
func (a action) Carried(form url.Values) []kv {
	var out []kv
	for _, p := range a.Params {
		out = append(out, kv{p, form.Get(p)})
	}
	return out
}

func (s *Server) confirmAction(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, ok := findAction(kind, r.PathValue("action"))
		if !ok || a.Confirm == "" {
			http.NotFound(w, r)
			return
		}
		if !objectName(w, r.PathValue("name")) {
			return
		}
		q := r.URL.Query()
		if a.Check != nil {
			if err := a.Check(s.opts.Namespace, q); err != nil {
				s.renderError(w, r, err, "/"+kind+"/"+url.PathEscape(r.PathValue("name")))
				return
			}
		}
		s.render(w, r, http.StatusOK, "confirm", &confirmData{page: page{Title: a.Label, Nav: kind}, Action: a, Name: r.PathValue("name"),
			Question: a.Question(r.PathValue("name"), q), Carried: a.Carried(q)})
	}
}

type confirmData struct {
	page
	Action   action
	Name     string
	Question string
	Carried  []kv
}

func (s *Server) runAction(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.run(w, r, kind) }
}

func (s *Server) run(w http.ResponseWriter, r *http.Request, kind string) {
	a, ok := findAction(kind, r.PathValue("action"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	name := r.PathValue("name")
	if !objectName(w, name) {
		return
	}
	back := "/" + a.Kind + "/" + url.PathEscape(name)
	if a.Check != nil {
		if err := a.Check(s.opts.Namespace, r.PostForm); err != nil {
			s.renderError(w, r, err, back)
			return
		}
	}
	if a.Confirm != "" && r.PostForm.Get("confirm") != "yes" {
		s.render(w, r, http.StatusBadRequest, "confirm", &confirmData{Action: a, Name: name,
			Question: a.Question(name, r.PostForm), Carried: a.Carried(r.PostForm),
			page: page{Title: a.Label, Nav: kind, Error: "Confirm first: nothing was changed."}})
		return
	}
	res, err := a.Run(r.Context(), s, s.opts.Namespace, name, r.PostForm)
	if err != nil {
		s.renderError(w, r, err, back)
		return
	}
	if res.Reveal != nil {
		s.render(w, r, http.StatusOK, "reveal", res.Reveal)
		return
	}
	http.Redirect(w, r, res.Redirect, http.StatusSeeOther)
}

func deprovisionInstance(ctx context.Context, s *Server, ns, name string, _ url.Values) (actionResult, error) {
	in, err := s.c.Instance(ctx, ns, name)
	if err != nil {
		return actionResult{}, err
	}
	if err := s.c.Delete(ctx, in, apiview.ResServiceInstances); err != nil {
		return actionResult{}, err
	}
	return actionResult{Redirect: "/instances/" + url.PathEscape(name)}, nil
}

func touchInstance(ctx context.Context, s *Server, ns, name string, _ url.Values) (actionResult, error) {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		in, err := s.c.Instance(ctx, ns, name)
		if err != nil {
			return err
		}
		in.Spec.UpdateRequests++
		return s.c.Update(ctx, in, apiview.ResServiceInstances)
	})
	return actionResult{Redirect: "/instances/" + url.PathEscape(name)}, err
}

// rotateBinding is svcat rotate binding: a fresh token in the
// rotation-request annotation, which the controller honours once.
func rotateBinding(ctx context.Context, s *Server, ns, name string, _ url.Values) (actionResult, error) {
	if _, err := s.c.RequestRotation(ctx, ns, name); err != nil {
		if errorStatus(err) == http.StatusBadGateway {
			err = &userError{err.Error()} // not an API refusal: being deleted
		}
		return actionResult{}, err
	}
	return actionResult{Redirect: "/bindings/" + url.PathEscape(name)}, nil
}

// upgradeInstance is svcat upgrade instance: the plan's current
// maintenance version into the spec; the controller sends it.
func upgradeInstance(ctx context.Context, s *Server, ns, name string, _ url.Values) (actionResult, error) {
	in, err := s.c.Instance(ctx, ns, name)
	if err != nil {
		return actionResult{}, err
	}
	version, err := s.c.PlanMaintenanceVersion(ctx, in)
	if err != nil && errorStatus(err) == http.StatusBadGateway {
		// Not an API refusal: the plan offers nothing to upgrade to.
		err = &userError{err.Error()}
	}
	if err != nil {
		return actionResult{}, err
	}
	if apiview.RecordedMaintenanceVersion(in) == version {
		return actionResult{}, &userError{fmt.Sprintf("instance %q already has maintenance version %s: there is nothing to upgrade", name, version)}
	}
	if err := s.c.RequestUpgrade(ctx, ns, name, version); err != nil {
		return actionResult{}, err
	}
	return actionResult{Redirect: "/instances/" + url.PathEscape(name)}, nil
}

// userError is a mistake in what the user typed; the page says so as it is.
type userError struct{ msg string }

func (e *userError) Error() string { return e.msg }

// objectName answers 404 for a name no object can have, so that the
// names pages put into links and queries are plain DNS names.
func objectName(w http.ResponseWriter, name string) bool {
	if len(validation.IsDNS1123Subdomain(name)) == 0 {
		return true
	}
	http.Error(w, "no object can be named "+quoteHost(name)+": names are lower-case DNS names", http.StatusNotFound)
	return false
}

func checkName(what, name string) error {
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return &userError{fmt.Sprintf("%s name %q is not valid: %s", what, name, strings.Join(errs, "; "))}
	}
	return nil
}

func bindInstance(ctx context.Context, s *Server, ns, name string, form url.Values) (actionResult, error) {
	if _, err := s.c.Instance(ctx, ns, name); err != nil {
		return actionResult{}, err
	}
	return s.bind(ctx, v1beta1.InstanceReference{Name: name}, form)
}

// bind creates a binding of ref in the UI's namespace, named by the form's
// binding field (the instance's name when empty), its credentials in the
// form's secretName (the binding's name when empty).
func (s *Server) bind(ctx context.Context, ref v1beta1.InstanceReference, form url.Values) (actionResult, error) {
	bname := strings.TrimSpace(form.Get("binding"))
	if bname == "" {
		bname = ref.Name
	}
	if err := checkName("binding", bname); err != nil {
		return actionResult{}, err
	}
	secret := strings.TrimSpace(form.Get("secretName"))
	if secret != "" {
		if err := checkName("secret", secret); err != nil {
			return actionResult{}, err
		}
	}
	b := apiview.NewBinding(s.opts.Namespace, bname, ref, secret)
	if err := s.c.Create(ctx, b, apiview.ResServiceBindings); err != nil {
		return actionResult{}, err
	}
	return actionResult{Redirect: "/bindings/" + url.PathEscape(bname)}, nil
}

func unbindBinding(ctx context.Context, s *Server, ns, name string, _ url.Values) (actionResult, error) {
	b, err := s.c.Binding(ctx, ns, name)
	if err != nil {
		return actionResult{}, err
	}
	if err := s.c.Delete(ctx, b, apiview.ResServiceBindings); err != nil {
		return actionResult{}, err
	}
	return actionResult{Redirect: "/bindings/" + url.PathEscape(name)}, nil
}

type revealData struct {
	page
	Binding, Secret string
	Data            []kv
}

// revealSecret reads the binding's Secret with the user's rights and shows
// it once: the answer is no-store and the values are never logged.
func revealSecret(ctx context.Context, s *Server, ns, name string, _ url.Values) (actionResult, error) {
	b, err := s.c.Binding(ctx, ns, name)
	if err != nil {
		return actionResult{}, err
	}
	sn := b.Spec.SecretName
	if sn == "" {
		sn = b.Name
	}
	sec, err := s.c.Secret(ctx, ns, sn)
	if err != nil {
		return actionResult{}, err
	}
	d := &revealData{Binding: name, Secret: sn}
	for _, k := range sortedKeys(sec.Data) {
		d.Data = append(d.Data, kv{k, string(sec.Data[k])})
	}
	return actionResult{Reveal: d}, nil
}

// abandon is svcat deprovision/unbind --abandon: the annotation the
// controller honours, then the delete; the controller lets the object go
// without calling the broker.
func abandon(kind string) func(ctx context.Context, s *Server, ns, name string, _ url.Values) (actionResult, error) {
	return func(ctx context.Context, s *Server, ns, name string, _ url.Values) (actionResult, error) {
		var obj client.Object
		resource := apiview.ResServiceInstances
		if kind == kindInstances {
			in, err := s.c.Instance(ctx, ns, name)
			if err != nil {
				return actionResult{}, err
			}
			obj = in
		} else {
			b, err := s.c.Binding(ctx, ns, name)
			if err != nil {
				return actionResult{}, err
			}
			obj, resource = b, apiview.ResServiceBindings
		}
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			if err := s.c.C.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
				return err
			}
			a := obj.GetAnnotations()
			if a == nil {
				a = map[string]string{}
			}
			a[v1beta1.AnnotationAbandon] = v1beta1.AnnotationAbandonValue
			obj.SetAnnotations(a)
			return s.c.Update(ctx, obj, resource)
		})
		if err != nil {
			return actionResult{}, err
		}
		if err := s.c.Delete(ctx, obj, resource); err != nil {
			return actionResult{}, err
		}
		return actionResult{Redirect: "/" + kind + "/" + url.PathEscape(name)}, nil
	}
}
