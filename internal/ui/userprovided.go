package ui

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/svcat-io/svcat/internal/cli/apiview"
)

// Creating a user-provided instance, as svcat create user-provided: from a
// Secret the user keeps, or from KEY=VALUE lines written into a new Secret
// NAME-credentials that the instance owns. Both share apiview's code.

type userProvidedData struct {
	page
	Name, SecretName string
	// PairsGiven says the refused form had KEY=VALUE lines: they are not
	// sent back, since they are credentials.
	PairsGiven bool
}

func (s *Server) userProvidedForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "userprovided", &userProvidedData{page: page{Title: "Create a user-provided instance", Nav: "instances"}})
}

// credentialLines are the non-blank lines of the form's credentials box,
// with the line ends browsers send removed and nothing else: a value may
// end in spaces.
func credentialLines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSuffix(l, "\r")
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

func (s *Server) createUserProvided(w http.ResponseWriter, r *http.Request) {
	form := r.PostForm
	pairs := credentialLines(form.Get("credentials"))
	d := &userProvidedData{page: page{Title: "Create a user-provided instance", Nav: "instances"},
		Name: strings.TrimSpace(form.Get("name")), SecretName: strings.TrimSpace(form.Get("secretName")), PairsGiven: len(pairs) > 0}
	refuse := func(err error) {
		d.Error = err.Error()
		s.render(w, r, errorStatus(err), "userprovided", d)
	}
	if err := checkName("instance", d.Name); err != nil {
		refuse(err)
		return
	}
	var literals map[string][]byte
	switch {
	case d.SecretName == "" && len(pairs) == 0:
		refuse(&userError{"give the credentials: the name of a Secret of this namespace, or KEY=VALUE lines"})
		return
	case d.SecretName != "" && len(pairs) > 0:
		refuse(&userError{"give a Secret's name or KEY=VALUE lines, not both: the credentials come from one Secret"})
		return
	case d.SecretName != "":
		if err := checkName("secret", d.SecretName); err != nil {
			refuse(err)
			return
		}
	default:
		var err error
		if literals, err = apiview.ParseCredentials("credential", pairs); err != nil {
			refuse(&userError{err.Error()})
			return
		}
	}
	if _, err := s.c.CreateUserProvided(r.Context(), s.opts.Namespace, d.Name, d.SecretName, literals); err != nil {
		refuse(err)
		return
	}
	http.Redirect(w, r, "/instances/"+url.PathEscape(d.Name), http.StatusSeeOther)
}
