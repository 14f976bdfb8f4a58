package ui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/apiview"
	"github.com/svcat-io/svcat/internal/controller/osbparams"
	"github.com/svcat-io/svcat/internal/planschema"
)

type marketplaceData struct {
	page
	Query   string
	Classes []classView
	Hidden  int
}

func (s *Server) marketplace(w http.ResponseWriter, r *http.Request) {
	d := &marketplaceData{page: page{Title: "Marketplace"}, Query: r.URL.Query().Get("q")}
	off, err := s.c.Offerings(r.Context(), s.opts.Scope, s.opts.Namespace)
	if err != nil {
		d.Error = err.Error()
		s.render(w, r, errorStatus(err), "marketplace", d)
		return
	}
	for _, c := range off.Classes {
		v := newClassView(c, off.PlansOf(c))
		if !v.matches(d.Query) {
			d.Hidden++
			continue
		}
		d.Classes = append(d.Classes, v)
	}
	s.render(w, r, http.StatusOK, "marketplace", d)
}

type provisionData struct {
	page
	Class      classView
	Plan       planView
	ClassScope string
	Form       Form
	Name       string
	JSON       string
	SecretName string
	SecretKey  string
	Violations []string
}

// offering finds the class and plan a provision form is for, by the
// Kubernetes names the marketplace links carry.
func (s *Server) offering(ctx context.Context, q url.Values) (apiview.Class, apiview.Plan, error) {
	scope := apiview.ClusterScope
	classNs := ""
	if q.Get("scope") == string(apiview.NamespaceScope) {
		scope, classNs = apiview.NamespaceScope, s.opts.Namespace
	}
	off, err := s.c.Offerings(ctx, scope, s.opts.Namespace)
	if err != nil {
		return apiview.Class{}, apiview.Plan{}, err
	}
	class, ok := off.ClassOf(classNs, q.Get("class"))
	if !ok {
		return apiview.Class{}, apiview.Plan{}, &apiview.NotFoundError{Kind: "class", Name: q.Get("class"), Namespace: classNs,
			Hint: "Choose a class and plan in the marketplace."}
	}
	plan, ok := off.PlanOf(classNs, q.Get("plan"))
	if !ok || !plan.BelongsTo(class) {
		return apiview.Class{}, apiview.Plan{}, &apiview.NotFoundError{Kind: "plan", Name: q.Get("plan"), Namespace: classNs,
			Hint: "Choose a plan of " + class.Spec.ExternalName + " in the marketplace."}
	}
	if class.Removed || plan.Removed {
		return apiview.Class{}, apiview.Plan{}, &userError{class.Spec.ExternalName + "/" + plan.Spec.ExternalName +
			" was removed from its broker's catalog: existing instances keep working, new ones cannot be provisioned"}
	}
	return class, plan, nil
}

func (s *Server) provisionForm(w http.ResponseWriter, r *http.Request) {
	class, plan, err := s.offering(r.Context(), r.URL.Query())
	if err != nil {
		s.renderError(w, r, err, "/marketplace")
		return
	}
	d := newProvisionData(class, plan)
	d.SecretKey = "parameters"
	s.render(w, r, http.StatusOK, "provision", d)
}

func newProvisionData(class apiview.Class, plan apiview.Plan) *provisionData {
	var raw []byte
	if plan.Spec.InstanceCreateParameterSchema != nil {
		raw = plan.Spec.InstanceCreateParameterSchema.Raw
	}
	return &provisionData{page: page{Title: "Provision " + class.Spec.ExternalName, Nav: "marketplace"},
		Class: newClassView(class, nil), Plan: newPlanView(plan), ClassScope: string(class.Scope()), Form: BuildForm(raw)}
}

func (s *Server) provision(w http.ResponseWriter, r *http.Request) {
	form := r.PostForm
	class, plan, err := s.offering(r.Context(), form)
	if err != nil {
		s.renderError(w, r, err, "/marketplace")
		return
	}
	d := newProvisionData(class, plan)
	d.Name = strings.TrimSpace(form.Get("name"))
	d.JSON = form.Get("json")
	d.SecretName, d.SecretKey = strings.TrimSpace(form.Get("secretName")), strings.TrimSpace(form.Get("secretKey"))
	fillValues(d.Form.Fields, form)

	refuse := func(err error, violations []planschema.Violation) {
		if err != nil {
			d.Error = err.Error()
		}
		for _, v := range violations {
			d.Violations = append(d.Violations, v.String())
		}
		markErrors(d.Form.Fields, violations)
		status := http.StatusUnprocessableEntity
		if err != nil {
			status = errorStatus(err)
		}
		s.render(w, r, status, "provision", d)
	}

	if err := checkName("instance", d.Name); err != nil {
		refuse(err, nil)
		return
	}
	values, violations := map[string]any{}, []planschema.Violation(nil)
	if strings.TrimSpace(d.JSON) != "" {
		v, err := decodeJSON(d.JSON)
		m, ok := v.(map[string]any)
		if err != nil || !ok {
			refuse(&userError{"the parameters as JSON must be one JSON object, such as {\"name\": \"value\"}"}, nil)
			return
		}
		values = m
	} else {
		values, violations = ReadForm(d.Form.Fields, form)
	}
	if len(violations) > 0 {
		refuse(nil, violations)
		return
	}
	var from []v1beta1.ParametersFromSource
	if d.SecretName != "" {
		if d.SecretKey == "" {
			refuse(&userError{"parameters from a Secret need the Secret's key as well as its name"}, nil)
			return
		}
		from = []v1beta1.ParametersFromSource{{SecretKeyRef: &v1beta1.SecretKeyReference{Name: d.SecretName, Key: d.SecretKey}}}
	}
	raw, err := osbparams.ToRaw(values)
	if err != nil {
		refuse(err, nil)
		return
	}
	notice, violations, err := s.checkParameters(r.Context(), plan, raw, from)
	d.Notice = notice
	if err != nil {
		refuse(err, nil)
		return
	}
	if len(violations) > 0 {
		refuse(nil, violations)
		return
	}
	in := &v1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: s.opts.Namespace, Name: d.Name}}
	in.SetGroupVersionKind(v1beta1.GroupVersion.WithKind("ServiceInstance"))
	// Kubernetes names, as svcat provision writes them: the user chose
	// among same-named classes already.
	if class.Namespace == "" {
		in.Spec.ClusterServiceClassName, in.Spec.ClusterServicePlanName = class.Name, plan.Name
	} else {
		in.Spec.ServiceClassName, in.Spec.ServicePlanName = class.Name, plan.Name
	}
	in.Spec.Parameters, in.Spec.ParametersFrom = raw, from
	if err := s.c.Create(r.Context(), in, apiview.ResServiceInstances); err != nil {
		refuse(err, nil)
		return
	}
	http.Redirect(w, r, "/instances/"+url.PathEscape(d.Name), http.StatusSeeOther)
}

// checkParameters applies the controller's own merge and checks, then its
// schema rules, so the form refuses exactly what the controller would. The
// Secret is read with the user's rights; when they may not read it, the
// controller (which can) checks the merged parameters after creation, and
// only what the Secret cannot supply is checked here.
func (s *Server) checkParameters(ctx context.Context, plan apiview.Plan, raw *runtime.RawExtension, from []v1beta1.ParametersFromSource) (notice string, violations []planschema.Violation, err error) {
	res, err := osbparams.Build(raw, from, s.secretValue(ctx))
	var pe *osbparams.Error
	unreadable := errors.As(err, &pe) && pe.Reason == osbparams.ReasonSecretUnreadable && apierrors.IsForbidden(pe.Err)
	if unreadable {
		notice = "You may not read Secret " + pe.Secret + ": the controller checks the parameters it holds."
		res, err = osbparams.Build(raw, nil, nil)
	}
	if err != nil {
		return notice, nil, err
	}
	verr := planschema.Validate(plan.Spec.InstanceCreateParameterSchema, res.Parameters)
	var ve *planschema.ValidationError
	switch {
	case verr == nil:
		return notice, nil, nil
	case !errors.As(verr, &ve):
		return notice, nil, verr
	case unreadable:
		// Required keys may be in the Secret.
		return notice, nonRequired(ve.Violations), nil
	}
	return notice, ve.Violations, nil
}

func nonRequired(vs []planschema.Violation) []planschema.Violation {
	var out []planschema.Violation
	for _, v := range vs {
		if !strings.HasPrefix(v.Reason, "is required") {
			out = append(out, v)
		}
	}
	return out
}

// secretValue reads one key of a Secret with the user's rights, for the
// controller's parameter merge. The value stays in the server.
func (s *Server) secretValue(ctx context.Context) func(name, key string) ([]byte, error) {
	return func(name, key string) ([]byte, error) {
		var sec corev1.Secret
		if err := s.wc.Get(ctx, client.ObjectKey{Namespace: s.opts.Namespace, Name: name}, &sec); err != nil {
			return nil, err
		}
		v, ok := sec.Data[key]
		if !ok {
			return nil, osbparams.ErrKeyNotFound
		}
		return v, nil
	}
}

// fillValues puts the posted values back into the form, so a refused form
// keeps what the user typed.
func fillValues(fields []Field, form url.Values) {
	for i := range fields {
		f := &fields[i]
		if f.Kind == kindObject {
			fillValues(f.Fields, form)
			continue
		}
		if _, ok := form[f.Name]; !ok {
			continue
		}
		f.Default = form.Get(f.Name)
		for j := range f.Options {
			f.Options[j].Selected = f.Options[j].Value == f.Default
		}
	}
}

// markErrors attaches each violation to the field it names, or to the
// nearest enclosing one.
func markErrors(fields []Field, vs []planschema.Violation) {
	for _, v := range vs {
		markError(fields, v)
	}
}

func markError(fields []Field, v planschema.Violation) bool {
	for i := range fields {
		f := &fields[i]
		if v.Pointer == f.Pointer || strings.HasPrefix(v.Pointer, f.Pointer+"/") {
			if f.Kind == kindObject && markError(f.Fields, v) {
				return true
			}
			if f.Error != "" {
				f.Error += "; "
			}
			f.Error += v.Reason
			return true
		}
	}
	return false
}

type listData struct {
	page
	Live any
}

func (s *Server) instances(w http.ResponseWriter, r *http.Request) {
	live := s.instancesLive(r.Context())
	s.render(w, r, liveStatus(live.Err), "instances", &listData{page: page{Title: "Instances"}, Live: live})
}

func (s *Server) bindings(w http.ResponseWriter, r *http.Request) {
	live := s.bindingsLive(r.Context())
	s.render(w, r, liveStatus(live.Err), "bindings", &listData{page: page{Title: "Bindings"}, Live: live})
}

func liveStatus(err error) int {
	if err == nil {
		return http.StatusOK
	}
	return errorStatus(err)
}

type detailData struct {
	page
	Name    string
	Live    any
	Static  any
	Actions []action
}

func (s *Server) instance(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !objectName(w, name) {
		return
	}
	live := s.instanceLive(r.Context(), name)
	status := http.StatusOK
	if live.Err != nil {
		status = errorStatus(live.Err)
	}
	brokered := live.Instance == nil || !live.Instance.UserProvided
	s.render(w, r, status, "instance", &detailData{page: page{Title: "Instance " + name, Nav: "instances"},
		Name: name, Live: live, Static: live.Instance, Actions: actionsFor(kindInstances, brokered)})
}

func (s *Server) binding(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !objectName(w, name) {
		return
	}
	live := s.bindingLive(r.Context(), name)
	status := http.StatusOK
	if live.Err != nil {
		status = errorStatus(live.Err)
	}
	s.render(w, r, status, "binding", &detailData{page: page{Title: "Binding " + name, Nav: "bindings"},
		Name: name, Live: live, Static: live.Binding, Actions: actionsFor(kindBindings, true)})
}
