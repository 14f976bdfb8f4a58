package controller

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/brokerclient"
)

// resolved is an instance's class and plan, of either scope, and the broker
// that offers them.
type resolved struct {
	scope               brokerScope
	className, planName string // Kubernetes names
	class               *scv1beta1.CommonServiceClassSpec
	plan                *scv1beta1.CommonServicePlanSpec
	classRemoved        bool
	planRemoved         bool
	brokerName          string
	broker              brokerclient.Broker
	userClass, userPlan string
}

// resolveError is a class, plan or broker that cannot be found; the reason is
// the condition reason.
type resolveError struct {
	reason, message string
}

func (e *resolveError) Error() string { return e.message }

// resolve finds the class and plan an instance names, in whichever of the
// six v0.3 forms it names them, and the plan by default when the class has
// exactly one.
func resolve(ctx context.Context, c client.Reader, inst *scv1beta1.ServiceInstance) (*resolved, error) {
	ref := inst.Spec.PlanReference
	cluster := ref.ClusterServiceClassExternalName != "" || ref.ClusterServiceClassExternalID != "" || ref.ClusterServiceClassName != ""
	r := &resolved{scope: namespacedScope(inst.Namespace)}
	if cluster {
		r.scope = clusterScope
	}
	var classBy, classVal, planBy, planVal string
	switch {
	case ref.ClusterServiceClassExternalName != "":
		classBy, classVal, planBy, planVal = "externalName", ref.ClusterServiceClassExternalName, "externalName", ref.ClusterServicePlanExternalName
	case ref.ClusterServiceClassExternalID != "":
		classBy, classVal, planBy, planVal = "externalID", ref.ClusterServiceClassExternalID, "externalID", ref.ClusterServicePlanExternalID
	case ref.ClusterServiceClassName != "":
		classBy, classVal, planBy, planVal = "name", ref.ClusterServiceClassName, "name", ref.ClusterServicePlanName
	case ref.ServiceClassExternalName != "":
		classBy, classVal, planBy, planVal = "externalName", ref.ServiceClassExternalName, "externalName", ref.ServicePlanExternalName
	case ref.ServiceClassExternalID != "":
		classBy, classVal, planBy, planVal = "externalID", ref.ServiceClassExternalID, "externalID", ref.ServicePlanExternalID
	case ref.ServiceClassName != "":
		classBy, classVal, planBy, planVal = "name", ref.ServiceClassName, "name", ref.ServicePlanName
	default:
		return nil, &resolveError{scv1beta1.ReasonReferencesNonexistentServiceClass, "spec names no class"}
	}
	r.userClass = r.scope.classKind + "/" + classVal
	r.userPlan = planVal

	classes, err := r.scope.list(ctx, c, r.scope.classList())
	if err != nil {
		return nil, err
	}
	classObj, err := pick(classes, classBy, classVal, "")
	if err != nil {
		return nil, &resolveError{scv1beta1.ReasonReferencesNonexistentServiceClass,
			fmt.Sprintf(scv1beta1.MessageReferencesNonexistentServiceClassFormat, r.scope.classKind, classBy, classVal, err)}
	}
	r.className = classObj.GetName()
	cf := fieldsOf(classObj)
	r.class, r.classRemoved, r.brokerName = cf.class, *cf.removed, *cf.broker

	plans, err := r.scope.list(ctx, c, r.scope.planList())
	if err != nil {
		return nil, err
	}
	var planObj client.Object
	if planVal == "" {
		var ofClass []client.Object
		for _, p := range plans {
			if *fieldsOf(p).classRef == r.className {
				ofClass = append(ofClass, p)
			}
		}
		if len(ofClass) != 1 {
			return nil, &resolveError{scv1beta1.ReasonReferencesNonexistentServicePlan,
				fmt.Sprintf(scv1beta1.MessageNoDefaultPlanFormat,
					r.scope.classKind, cf.externalName(), len(ofClass), externalNames(ofClass))}
		}
		planObj = ofClass[0]
		r.userPlan = fieldsOf(planObj).externalName()
	} else if planObj, err = pick(plans, planBy, planVal, r.className); err != nil {
		var ofClass []client.Object
		for _, p := range plans {
			if *fieldsOf(p).classRef == r.className {
				ofClass = append(ofClass, p)
			}
		}
		return nil, &resolveError{scv1beta1.ReasonReferencesNonexistentServicePlan,
			fmt.Sprintf(scv1beta1.MessageReferencesNonexistentServicePlanFormat,
				r.scope.planKind, planBy, planVal, cf.externalName(), err, externalNames(ofClass))}
	}
	r.planName = planObj.GetName()
	pf := fieldsOf(planObj)
	r.plan, r.planRemoved = pf.plan, *pf.removed

	if cluster {
		b := &scv1beta1.ClusterServiceBroker{}
		if err := c.Get(ctx, client.ObjectKey{Name: r.brokerName}, b); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, &resolveError{scv1beta1.ReasonReferencesNonexistentBroker, fmt.Sprintf(scv1beta1.MessageReferencesNonexistentClusterBrokerFormat, r.brokerName)}
			}
			return nil, err
		}
		r.broker = brokerclient.FromClusterBroker(b)
	} else {
		b := &scv1beta1.ServiceBroker{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: inst.Namespace, Name: r.brokerName}, b); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, &resolveError{scv1beta1.ReasonReferencesNonexistentBroker, fmt.Sprintf(scv1beta1.MessageReferencesNonexistentBrokerFormat, r.brokerName)}
			}
			return nil, err
		}
		r.broker = brokerclient.FromBroker(b)
	}
	return r, nil
}

// pick finds exactly one class or plan by name, externalName or externalID;
// plans only among those of classRef.
func pick(objs []client.Object, by, value, classRef string) (client.Object, error) {
	var found []client.Object
	for _, o := range objs {
		f := fieldsOf(o)
		if classRef != "" && *f.classRef != classRef {
			continue
		}
		var v string
		switch by {
		case "name":
			v = o.GetName()
		case "externalName":
			v = f.externalName()
		case "externalID":
			v = f.externalID()
		}
		if v == value {
			found = append(found, o)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return nil, fmt.Errorf("does not exist")
	}
	return nil, fmt.Errorf("is ambiguous: more than one (found: %d); name it by externalID or Kubernetes name", len(found))
}

func externalNames(objs []client.Object) string {
	var names []string
	for _, o := range objs {
		names = append(names, fieldsOf(o).externalName())
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ", ")
}

// planUpdatable applies the plan's override of the class's planUpdatable.
func (r *resolved) planUpdatable() bool {
	if r.plan.PlanUpdatable != nil {
		return *r.plan.PlanUpdatable
	}
	return r.class.PlanUpdatable
}

// bindable applies the plan's override of the class's bindable.
func (r *resolved) bindable() bool {
	if r.plan.Bindable != nil {
		return *r.plan.Bindable
	}
	return r.class.Bindable
}
