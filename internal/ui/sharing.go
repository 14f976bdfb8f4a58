package ui

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/apiview"
)

// Sharing across namespaces, as svcat share/unshare instance and svcat
// bind NAMESPACE/INSTANCE: the owner's instance page shares and unshares
// (spec.sharedWith, with the user's rights; the controller decides what
// is shared); the consuming namespace's instance list shows what its
// markers say is shared with it, and binds to it.

var (
	shareAction = action{Name: "share", Kind: kindInstances, Label: "Share", OwnForm: true, Brokered: true,
		Params: []string{"namespace"}, Check: checkShareNamespace(true), Run: shareInstance(false)}
	unshareAction = action{Name: "unshare", Kind: kindInstances, Label: "Unshare", Danger: true,
		Params: []string{"namespace"}, Check: checkShareNamespace(false), Run: shareInstance(true),
		Confirm: "Stop sharing instance %q with namespace %q? The bindings there to it are unbound at the broker and their Secrets removed; " +
			"the binding objects stay, and bind again if you share it again."}
)

// shareNamespace is the namespace a share form names.
func shareNamespace(form url.Values) string { return strings.TrimSpace(form.Get("namespace")) }

// checkShareNamespace applies svcat share's rules to the form's namespace.
func checkShareNamespace(adding bool) func(own string, form url.Values) error {
	return func(own string, form url.Values) error {
		ns := shareNamespace(form)
		if p := apiview.ShareNamespaceProblem(own, ns, adding); p != "" {
			return &userError{fmt.Sprintf("namespace %q %s", ns, p)}
		}
		return nil
	}
}

func shareInstance(remove bool) func(ctx context.Context, s *Server, ns, name string, form url.Values) (actionResult, error) {
	return func(ctx context.Context, s *Server, ns, name string, form url.Values) (actionResult, error) {
		if _, err := s.c.Share(ctx, ns, name, []string{shareNamespace(form)}, remove); err != nil {
			return actionResult{}, err
		}
		return actionResult{Redirect: "/instances/" + url.PathEscape(name) + "#sharing"}, nil
	}
}

// sharedLive adds to the instance list what other namespaces share with
// this one. A user who may not list the markers still sees their own
// instances, and why the shared ones are missing.
func (s *Server) sharedLive(ctx context.Context, d *instancesLiveData) {
	shared, more, err := s.c.SharedWith(ctx, s.opts.Namespace)
	switch {
	case err != nil:
		d.SharedNote = "Instances other namespaces share with this one are not listed: " + err.Error()
	case more:
		d.SharedNote = "Only the first instances shared with this namespace are listed: its ConfigMaps hold more share markers than svcat reads."
	}
	d.Shared = shared
}

type sharedData struct {
	page
	Instance     apiview.SharedInstance
	Bindings     []bindingView
	BindingsNote string
}

// sharedPath is the page of instance owner/name shared with the UI's
// namespace.
func sharedPath(owner, name string) string {
	return "/shared/" + url.PathEscape(owner) + "/" + url.PathEscape(name)
}

// sharedInstance checks the path of a shared instance's page; false means
// it answered already.
func (s *Server) sharedInstance(w http.ResponseWriter, r *http.Request) (owner, name string, ok bool) {
	owner, name = r.PathValue("namespace"), r.PathValue("name")
	if len(validation.IsDNS1123Label(owner)) > 0 {
		http.Error(w, "no namespace can be named "+quoteHost(owner)+": namespaces are lower-case DNS labels", http.StatusNotFound)
		return "", "", false
	}
	if !objectName(w, name) {
		return "", "", false
	}
	if owner == s.opts.Namespace {
		http.Redirect(w, r, "/instances/"+url.PathEscape(name), http.StatusSeeOther)
		return "", "", false
	}
	return owner, name, true
}

// shared shows what the namespace knows of an instance another one shares
// with it: its marker (the owner's namespace keeps its status, which this
// user may not read), the bindings here that use it, and a Bind form.
func (s *Server) shared(w http.ResponseWriter, r *http.Request) {
	owner, name, ok := s.sharedInstance(w, r)
	if !ok {
		return
	}
	in, err := s.c.SharedInstanceIn(r.Context(), s.opts.Namespace, owner, name)
	if err != nil {
		s.renderError(w, r, err, "/instances")
		return
	}
	d := &sharedData{page: page{Title: "Instance " + owner + "/" + name, Nav: "instances"}, Instance: in}
	bs, err := s.c.Bindings(r.Context(), s.opts.Namespace)
	if err != nil {
		d.BindingsNote = err.Error()
	}
	for i := range bs {
		if b := &bs[i]; b.SharedInstance() && b.InstanceNamespace() == owner && b.Spec.InstanceRef.Name == name {
			d.Bindings = append(d.Bindings, newBindingView(b))
		}
	}
	s.render(w, r, http.StatusOK, "shared", d)
}

// bindShared binds to an instance of another namespace: the binding names
// it with instanceRef.namespace, and the controller binds only while the
// owner shares it with this namespace.
func (s *Server) bindShared(w http.ResponseWriter, r *http.Request) {
	owner, name, ok := s.sharedInstance(w, r)
	if !ok {
		return
	}
	res, err := s.bind(r.Context(), v1beta1.InstanceReference{Namespace: owner, Name: name}, r.PostForm)
	if err != nil {
		s.renderError(w, r, err, sharedPath(owner, name))
		return
	}
	http.Redirect(w, r, res.Redirect, http.StatusSeeOther)
}
