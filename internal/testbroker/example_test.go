package testbroker_test

import (
	"context"
	"fmt"

	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// A broker that fails the first provision, then provisions asynchronously
// and needs one poll to finish.
func Example() {
	b, err := testbroker.New(testbroker.Options{})
	if err != nil {
		panic(err)
	}
	defer b.Close()
	b.On(testbroker.Rule{Operation: osb.OpProvision, AsyncPolls: 1})
	b.On(testbroker.Rule{Operation: osb.OpProvision, Status: 500, Times: 1})

	c, _ := osb.New(osb.Config{URL: b.URL(), Username: testbroker.DefaultUsername, Password: testbroker.DefaultPassword})
	defer c.Close()
	ctx := context.Background()
	req := &osb.ProvisionRequest{
		InstanceID: "demo-kafka", ServiceID: testbroker.SeedServiceID, PlanID: testbroker.SeedPlanID,
		OrganizationGUID: "cluster", SpaceGUID: "default", AcceptsIncomplete: true,
	}
	_, err = c.ProvisionInstance(ctx, req)
	fmt.Println("first attempt, server error:", osb.IsServerError(err))
	p, _ := c.ProvisionInstance(ctx, req)
	fmt.Println("second attempt, async:", p.Async())
	poll := &osb.LastOperationRequest{InstanceID: "demo-kafka", Operation: p.Operation}
	for {
		lo, _ := c.PollLastOperation(ctx, poll)
		fmt.Println("last operation:", lo.State)
		if lo.State != osb.StateInProgress {
			break
		}
	}
	inst, _ := b.Instance("demo-kafka")
	fmt.Println("broker state:", inst.State, "provisions:", b.ProvisionCount("demo-kafka"))
	// Output:
	// first attempt, server error: true
	// second attempt, async: true
	// last operation: in progress
	// last operation: succeeded
	// broker state: ready provisions: 1
}
