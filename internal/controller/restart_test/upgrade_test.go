package restart_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// The controller is killed (SIGKILL) while the broker works on an
// asynchronous maintenance upgrade. Started again, it polls the upgrade it
// had sent, records the new version, and sends neither a second upgrade
// nor a provision.
func TestKilledDuringUpgrade(t *testing.T) {
	env := localcluster.Get(t)
	ctx := context.Background()
	c := env.Client
	ns := env.Namespace(t)
	bin := buildController(t)

	broker := testbroker.Start(t, testbroker.Options{Catalog: testbroker.MaintenanceCatalog("restart-upg", "1.0.0", "")})
	cb := registerBroker(t, c, ns, "restart-upgrade", broker)
	first := start(t, bin, env)
	const id = "restart-upgrade-id"
	inst := &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "upgraded"}, Spec: scv1beta1.ServiceInstanceSpec{
		PlanReference:            scv1beta1.PlanReference{ClusterServiceClassExternalName: "restart-upg", ClusterServicePlanExternalName: "duck"},
		ExternalID:               id,
		MaintenanceUpgradePolicy: scv1beta1.MaintenanceUpgradeAutomatic}}
	if err := c.Create(ctx, inst); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "provisioned", func() error { return ready(getInstance(t, c, ns, "upgraded")) })

	// Long enough that the upgrade outlives the first controller.
	broker.On(testbroker.Rule{Operation: osb.OpUpdate, InstanceID: id, Async: true, AsyncDelay: 6 * time.Second})
	if err := broker.SetCatalog(testbroker.MaintenanceCatalog("restart-upg", "1.1.0", "")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "relist", func() error {
		b := &scv1beta1.ClusterServiceBroker{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(cb), b); err != nil {
			return err
		}
		b.Spec.RelistRequests++
		return c.Update(ctx, b)
	})
	eventually(t, 60*time.Second, "the upgrade sent and polled", func() error {
		inst := getInstance(t, c, ns, "upgraded")
		p := inst.Status.InProgressProperties
		if !inst.Status.AsyncOpInProgress || p == nil || p.MaintenanceInfoVersion != "1.1.0" || requestsFor(broker, osb.OpPollLastOperation, id) == 0 {
			return fmt.Errorf("status %+v", inst.Status)
		}
		return nil
	})
	first.kill()

	second := start(t, bin, env)
	eventually(t, 60*time.Second, "upgraded to 1.1.0", func() error {
		inst := getInstance(t, c, ns, "upgraded")
		if err := ready(inst); err != nil {
			return err
		}
		if ext := inst.Status.ExternalProperties; ext == nil || ext.MaintenanceInfoVersion != "1.1.0" {
			return fmt.Errorf("externalProperties %+v", ext)
		}
		if c := inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionUpgradeAvailable); c != nil {
			return fmt.Errorf("UpgradeAvailable %+v", c)
		}
		return nil
	})
	if n := requestsFor(broker, osb.OpUpdate, id); n != 1 {
		t.Errorf("%d update requests; the restarted controller should have resumed polling the one it sent", n)
	}
	if n := broker.ProvisionCount(id); n != 1 {
		t.Errorf("provisioned %d times", n)
	}
	if bi, ok := broker.Instance(id); !ok || bi.MaintenanceInfo == nil || bi.MaintenanceInfo.Version != "1.1.0" {
		t.Errorf("the broker's instance: %+v", bi)
	}
	logControllersIfFailed(t, first, second)
}
