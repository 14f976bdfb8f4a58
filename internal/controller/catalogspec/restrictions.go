package catalogspec

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

// Properties a catalog restriction may test, as v0.3 named them.
const (
	propName                = "name"
	propExternalName        = "spec.externalName"
	propExternalID          = "spec.externalID"
	propFree                = "spec.free"
	propServiceClassName    = "spec.serviceClass.name"
	propClusterServiceClass = "spec.clusterServiceClass.name"
)

var (
	classProperties = []string{propName, propExternalName, propExternalID}
	planProperties  = []string{propName, propExternalName, propExternalID, propFree, propServiceClassName, propClusterServiceClass}
)

// InvalidRestrictionError names a catalog restriction that cannot be parsed
// or tests a property that does not exist. Retrying cannot fix it: the spec
// must change.
type InvalidRestrictionError struct {
	Field, Value, Reason string
}

func (e *InvalidRestrictionError) Error() string {
	return fmt.Sprintf("spec.catalogRestrictions.%s: invalid value %q: %s", e.Field, e.Value, e.Reason)
}

// Restrict keeps the classes and plans that pass every restriction. A class
// none of whose plans pass is dropped, as in v0.3, since nothing could be
// provisioned from it.
func Restrict(classes []Class, r *scv1beta1.CatalogRestrictions) ([]Class, error) {
	if r == nil || (len(r.ServiceClass) == 0 && len(r.ServicePlan) == 0) {
		return classes, nil
	}
	classSel, err := selector("serviceClass", r.ServiceClass, classProperties)
	if err != nil {
		return nil, err
	}
	planSel, err := selector("servicePlan", r.ServicePlan, planProperties)
	if err != nil {
		return nil, err
	}
	var out []Class
	for _, c := range classes {
		if !classSel.Matches(labels.Set{propName: c.Name, propExternalName: c.Spec.ExternalName, propExternalID: c.Spec.ExternalID}) {
			continue
		}
		kept := c
		kept.Plans = nil
		for _, p := range c.Plans {
			if planSel.Matches(labels.Set{
				propName: p.Name, propExternalName: p.Spec.ExternalName, propExternalID: p.Spec.ExternalID,
				propFree: strconv.FormatBool(p.Spec.Free), propServiceClassName: c.Name, propClusterServiceClass: c.Name,
			}) {
				kept.Plans = append(kept.Plans, p)
			}
		}
		if len(kept.Plans) > 0 {
			out = append(out, kept)
		}
	}
	return out, nil
}

// selector parses restrictions with the label-selector grammar (==, !=, in,
// notin), which is what v0.3 accepted, and checks that each names a known
// property so that a typo is reported instead of silently matching nothing.
func selector(field string, exprs []string, allowed []string) (labels.Selector, error) {
	sel := labels.Everything()
	for i, e := range exprs {
		f := fmt.Sprintf("%s[%d]", field, i)
		s, err := labels.Parse(e)
		if err != nil {
			return nil, &InvalidRestrictionError{Field: f, Value: e, Reason: err.Error()}
		}
		reqs, _ := s.Requirements()
		for _, req := range reqs {
			if !contains(allowed, req.Key()) {
				return nil, &InvalidRestrictionError{Field: f, Value: e,
					Reason: fmt.Sprintf("unknown property %q; allowed: %s", req.Key(), strings.Join(allowed, ", "))}
			}
		}
		sel = sel.Add(reqs...)
	}
	return sel, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
