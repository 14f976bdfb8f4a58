package ui

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"sort"

	"github.com/svcat-io/svcat/internal/cli/apiview"
	"github.com/svcat-io/svcat/internal/controller/osbparams"
	"github.com/svcat-io/svcat/internal/planschema"
)

//go:embed templates
var templateFS embed.FS

// page is what every page's layout needs; page data embeds it.
type page struct {
	Title     string
	Nav       string
	Namespace string
	Context   string
	CSRF      string
	Error     string
	Notice    string
}

func (p *page) base() *page { return p }

type pageData interface{ base() *page }

type pages struct {
	byName map[string]*template.Template
	// frags renders the live fragments, shared by pages and streams.
	frags *template.Template
}

var pageNames = []string{"marketplace", "provision", "instances", "instance", "bindings", "binding", "confirm", "reveal", "error", "shared", "userprovided"}

var funcs = template.FuncMap{
	"add":      func(a, b int) int { return a + b },
	"bindForm": func(action, csrf, instance string) bindForm { return bindForm{action, csrf, instance} },
}

// bindForm is what the "bind" template draws: a form posting to Action,
// the binding named after Instance unless the user names it.
type bindForm struct{ Action, CSRF, Instance string }

func loadPages() (*pages, error) {
	p := &pages{byName: map[string]*template.Template{}}
	base, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/fragments.html")
	if err != nil {
		return nil, err
	}
	p.frags = base
	for _, n := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+n+".html")
		if err != nil {
			return nil, err
		}
		p.byName[n] = t
	}
	return p, nil
}

// render executes a page into a buffer first, so a template error never
// leaves half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, d pageData) {
	b := d.base()
	b.Namespace, b.Context, b.CSRF = s.opts.Namespace, s.opts.Context, s.guard.csrf()
	if b.Nav == "" {
		b.Nav = name
	}
	var buf bytes.Buffer
	if err := s.pages.byName[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		http.Error(w, "rendering the page failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorData struct {
	page
	Back string
}

// renderError shows an error as the page: the API's refusals in the words
// svcat uses on the command line.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error, back string) {
	s.render(w, r, errorStatus(err), "error", &errorData{page: page{Title: "Error", Error: err.Error()}, Back: back})
}

// errorStatus maps an error to an HTTP status; pure.
func errorStatus(err error) int {
	var (
		fe *apiview.ForbiddenError
		nf *apiview.NotFoundError
		ni *apiview.NotInstalledError
		ue *userError
		ve *planschema.ValidationError
		pe *osbparams.Error
		re *apiview.RequestError
	)
	switch {
	case errors.As(err, &fe):
		return http.StatusForbidden
	case errors.As(err, &nf):
		return http.StatusNotFound
	case errors.As(err, &ni):
		return http.StatusServiceUnavailable
	case errors.As(err, &ue), errors.As(err, &ve), errors.As(err, &pe), errors.As(err, &re):
		return http.StatusUnprocessableEntity
	}
	return http.StatusBadGateway
}

// refusal is the guard's answer: a plain page with no data and no form.
func (p *pages) refusal(w http.ResponseWriter, ref *refusal) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(ref.status)
	fmt.Fprintf(w, "svcat ui refused this request: %s\n", ref.msg)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
