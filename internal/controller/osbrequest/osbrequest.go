// Package osbrequest builds the OSB request bodies for an instance or a
// binding the way v0.3 sent them, so brokers written against v0.3 see the
// same fields: organization_guid is the cluster ID, space_guid the
// namespace's UID, and context the Kubernetes profile. It does no I/O; the
// caller resolves the class and plan and builds the parameters (package
// params) first.
package osbrequest

import (
	"errors"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/osbparams"
	"github.com/svcat-io/svcat/internal/osb"
)

// Env is what the requests need from outside the objects.
type Env struct {
	// ClusterID identifies the cluster to brokers (v0.3's cluster-info
	// ConfigMap).
	ClusterID string
	// NamespaceUID is the UID of the instance's (and binding's) namespace.
	NamespaceUID string
}

func requestContext(inst *v1beta1.ServiceInstance, env Env) *osb.Context {
	return &osb.Context{
		Platform:     osb.Platform,
		Namespace:    inst.Namespace,
		ClusterID:    env.ClusterID,
		InstanceName: inst.Name,
	}
}

// User converts the spec's userInfo for the originating identity header.
func User(u *v1beta1.UserInfo) *osb.UserInfo {
	if u == nil {
		return nil
	}
	out := &osb.UserInfo{Username: u.Username, UID: u.UID, Groups: u.Groups}
	if u.Extra != nil {
		out.Extra = make(map[string][]string, len(u.Extra))
		for k, v := range u.Extra {
			out.Extra[k] = []string(v)
		}
	}
	return out
}

// clusterScoped tells which half of the properties state holds the plan:
// v0.3 kept cluster and namespaced plans in different fields.
func clusterScoped(spec *v1beta1.ServiceInstanceSpec) bool {
	return spec.ClusterServiceClassExternalName != "" || spec.ClusterServiceClassExternalID != "" ||
		spec.ClusterServiceClassName != "" || spec.ClusterServiceClassRef != nil
}

// PlanExternalID is the plan a properties state records, whichever scope
// holds it.
func PlanExternalID(p *v1beta1.ServiceInstancePropertiesState) string {
	if p == nil {
		return ""
	}
	if p.ClusterServicePlanExternalID != "" {
		return p.ClusterServicePlanExternalID
	}
	return p.ServicePlanExternalID
}

// InstanceProperties is the inProgressProperties to record before sending
// a provision or update: the plan, the redacted parameters and their
// checksum, and the user.
func InstanceProperties(inst *v1beta1.ServiceInstance, plan *v1beta1.CommonServicePlanSpec, p osbparams.Result) (*v1beta1.ServiceInstancePropertiesState, error) {
	raw, err := p.RedactedRaw()
	if err != nil {
		return nil, err
	}
	s := &v1beta1.ServiceInstancePropertiesState{
		Parameters:        raw,
		ParameterChecksum: p.Checksum,
		UserInfo:          inst.Spec.UserInfo,
	}
	if clusterScoped(&inst.Spec) {
		s.ClusterServicePlanExternalName, s.ClusterServicePlanExternalID = plan.ExternalName, plan.ExternalID
	} else {
		s.ServicePlanExternalName, s.ServicePlanExternalID = plan.ExternalName, plan.ExternalID
	}
	return s, nil
}

// BindingProperties is the binding's inProgressProperties.
func BindingProperties(b *v1beta1.ServiceBinding, p osbparams.Result) (*v1beta1.ServiceBindingPropertiesState, error) {
	raw, err := p.RedactedRaw()
	if err != nil {
		return nil, err
	}
	return &v1beta1.ServiceBindingPropertiesState{Parameters: raw, ParameterChecksum: p.Checksum, UserInfo: b.Spec.UserInfo}, nil
}

// Provision is the PUT that creates inst, always accepting an asynchronous
// answer.
func Provision(inst *v1beta1.ServiceInstance, class *v1beta1.CommonServiceClassSpec, plan *v1beta1.CommonServicePlanSpec, p osbparams.Result, env Env) *osb.ProvisionRequest {
	return &osb.ProvisionRequest{
		InstanceID:        inst.Spec.ExternalID,
		AcceptsIncomplete: true,
		User:              User(inst.Spec.UserInfo),
		ServiceID:         class.ExternalID,
		PlanID:            plan.ExternalID,
		OrganizationGUID:  env.ClusterID,
		SpaceGUID:         env.NamespaceUID,
		Context:           requestContext(inst, env),
		Parameters:        p.Parameters,
		MaintenanceInfo:   maintenanceInfo(plan.MaintenanceInfo),
	}
}

// maintenanceInfo is the plan's version as a request carries it: the
// version alone, the description being the broker's own.
func maintenanceInfo(mi *v1beta1.MaintenanceInfo) *osb.MaintenanceInfo {
	if mi == nil {
		return nil
	}
	return &osb.MaintenanceInfo{Version: mi.Version}
}

// Update is the PATCH that brings the broker's instance to the spec. Like
// v0.3 it sends plan_id only when the plan differs from the one the broker
// accepted (status.externalProperties), and parameters only when their
// checksum differs; then cleared parameters are sent as {} so the broker
// drops them. previous_values names the accepted plan (v0.3 took it from
// the cluster-scoped field even for namespaced plans; this takes it from
// whichever is set). An update with neither change is still sent: it is
// how an updateRequests bump reaches the broker.
func Update(inst *v1beta1.ServiceInstance, class *v1beta1.CommonServiceClassSpec, plan *v1beta1.CommonServicePlanSpec, p osbparams.Result, env Env) *osb.UpdateRequest {
	ext := inst.Status.ExternalProperties
	prevPlan := PlanExternalID(ext)
	r := &osb.UpdateRequest{
		InstanceID:        inst.Spec.ExternalID,
		AcceptsIncomplete: true,
		User:              User(inst.Spec.UserInfo),
		ServiceID:         class.ExternalID,
		Context:           requestContext(inst, env),
		PreviousValues:    &osb.PreviousValues{ServiceID: class.ExternalID, PlanID: prevPlan},
	}
	if ext == nil || plan.ExternalID != prevPlan {
		r.PlanID = plan.ExternalID
	}
	if ext == nil || p.Checksum != ext.ParameterChecksum {
		r.Parameters = p.Parameters
		if r.Parameters == nil {
			r.Parameters = map[string]any{}
		}
	}
	return r
}

// ErrNoProperties means the status does not say which plan the broker
// holds, so a deprovision request cannot name it.
var ErrNoProperties = errors.New("the instance status records no plan to deprovision (inProgressProperties or externalProperties)")

// Deprovision is the DELETE for inst. The plan is the one the broker was
// last asked for, not the spec's (which may have changed since): the
// in-progress one during an operation or orphan mitigation, else the one
// the broker accepted; currentPlanID (the spec's resolved plan) serves only
// when provisioning never succeeded and no operation is recorded.
func Deprovision(inst *v1beta1.ServiceInstance, class *v1beta1.CommonServiceClassSpec, currentPlanID string) (*osb.DeprovisionRequest, error) {
	st := &inst.Status
	var planID string
	switch {
	case st.OrphanMitigationInProgress,
		st.CurrentOperation != "" && st.CurrentOperation != v1beta1.ServiceInstanceOperationDeprovision:
		// A deprovision records no properties of its own: a retried one
		// names the plan as the first did.
		planID = PlanExternalID(st.InProgressProperties)
	case st.ProvisionStatus != v1beta1.ServiceInstanceProvisionStatusProvisioned:
		planID = currentPlanID
	default:
		planID = PlanExternalID(st.ExternalProperties)
	}
	if planID == "" {
		return nil, ErrNoProperties
	}
	return &osb.DeprovisionRequest{
		InstanceID:        inst.Spec.ExternalID,
		ServiceID:         class.ExternalID,
		PlanID:            planID,
		AcceptsIncomplete: true,
		User:              User(inst.Spec.UserInfo),
	}, nil
}

// Bind is the PUT that creates b. app_guid and bind_resource.app_guid are
// the namespace's UID, as in v0.3. acceptsIncomplete should be true only
// when the broker can be polled for the binding (bindings_retrievable).
//
// A bind from a namespace the instance is shared with carries the
// consuming namespace as context.namespace, the owner's as
// context.instance_namespace, and the consuming namespace's UID as
// app_guid (env.NamespaceUID is the binding's namespace's): the broker
// learns who binds, and which namespace's instance it is.
func Bind(b *v1beta1.ServiceBinding, inst *v1beta1.ServiceInstance, class *v1beta1.CommonServiceClassSpec, plan *v1beta1.CommonServicePlanSpec, p osbparams.Result, env Env, acceptsIncomplete bool) *osb.BindRequest {
	ctx := requestContext(inst, env)
	if b.Namespace != inst.Namespace {
		ctx.Namespace, ctx.InstanceNamespace = b.Namespace, inst.Namespace
	}
	return &osb.BindRequest{
		InstanceID:        inst.Spec.ExternalID,
		BindingID:         b.BrokerBindingID(),
		AcceptsIncomplete: acceptsIncomplete,
		User:              User(b.Spec.UserInfo),
		ServiceID:         class.ExternalID,
		PlanID:            plan.ExternalID,
		Context:           ctx,
		AppGUID:           env.NamespaceUID,
		BindResource:      &osb.BindResource{AppGUID: env.NamespaceUID},
		Parameters:        p.Parameters,
	}
}

// Unbind is the DELETE for b.
func Unbind(b *v1beta1.ServiceBinding, inst *v1beta1.ServiceInstance, class *v1beta1.CommonServiceClassSpec, plan *v1beta1.CommonServicePlanSpec, acceptsIncomplete bool) *osb.UnbindRequest {
	return &osb.UnbindRequest{
		InstanceID:        inst.Spec.ExternalID,
		BindingID:         b.BrokerBindingID(),
		ServiceID:         class.ExternalID,
		PlanID:            plan.ExternalID,
		AcceptsIncomplete: acceptsIncomplete,
		User:              User(b.Spec.UserInfo),
	}
}
