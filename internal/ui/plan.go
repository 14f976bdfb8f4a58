package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/svcat-io/svcat/internal/cli/apiview"
	"github.com/svcat-io/svcat/internal/cli/resolve"
)

// planAction is svcat update instance --plan: the instance page's form
// picks a plan its class lets it move to, a confirmation page asks, and
// the spec gets the plan; the controller sends the update.
var planAction = action{Name: "plan", Kind: kindInstances, Label: "Change plan", Brokered: true,
	Params: []string{"plan"}, Check: checkPlanName, Run: changePlan,
	Confirm: "Move instance %q to plan %q? The broker changes the running service; if it refuses, the instance keeps its plan and its page says why."}

// maxPlanName bounds the plan name a form may carry: catalog names are
// short, and the name is echoed on the confirmation page.
const maxPlanName = 256

func checkPlanName(_ string, form url.Values) error {
	p := form.Get("plan")
	if p == "" || len(p) > maxPlanName || strings.IndexFunc(p, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return &userError{fmt.Sprintf("choose a plan: a plan's name of 1 to %d printable characters, from the instance's page", maxPlanName)}
	}
	return nil
}

func changePlan(ctx context.Context, s *Server, ns, name string, form url.Values) (actionResult, error) {
	in, err := s.c.Instance(ctx, ns, name)
	if err != nil {
		return actionResult{}, err
	}
	off, err := s.c.Offerings(ctx, apiview.AllScope, ns)
	if err != nil {
		return actionResult{}, err
	}
	class, err := off.InstanceClass(in)
	if err != nil {
		return actionResult{}, &userError{err.Error()}
	}
	plan, err := resolve.Plan(off.Plans, class, form.Get("plan"), false)
	if err == nil {
		err = apiview.PlanChangeAllowed(class, plan, apiview.CurrentPlanName(in))
	}
	if err == nil && plan.Name == apiview.CurrentPlanName(in) {
		err = fmt.Errorf("instance %q already has plan %q: nothing was changed", name, plan.Spec.ExternalName)
	}
	var nf *resolve.NotFoundError
	if err != nil && (errors.As(err, &nf) || errorStatus(err) == http.StatusBadGateway) {
		return actionResult{}, &userError{err.Error()}
	}
	if err != nil {
		return actionResult{}, err
	}
	if err := s.c.RequestPlanChange(ctx, ns, name, plan); err != nil {
		return actionResult{}, err
	}
	return actionResult{Redirect: "/instances/" + url.PathEscape(name)}, nil
}
