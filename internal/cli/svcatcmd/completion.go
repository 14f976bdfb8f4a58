package svcatcmd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/svcat-io/svcat/internal/cli/apiview"
	"github.com/svcat-io/svcat/internal/cli/output"
)

// lister names the objects a shell may complete; it runs with the flags
// parsed so far, so -n and --kubeconfig apply.
type lister func(ctx context.Context, f *Factory, c *cobra.Command) ([]string, error)

// completeNames completes the command's single NAME argument.
func completeNames(f *Factory, list lister) cobra.CompletionFunc {
	return func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return completeFrom(f, list)(c, args, toComplete)
	}
}

// completeFrom completes a flag's value, or an argument, from list.
func completeFrom(f *Factory, list lister) cobra.CompletionFunc {
	return func(c *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		ctx := c.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		names, err := list(ctx, f, c)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError | cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		seen := map[string]bool{}
		for _, n := range names {
			if strings.HasPrefix(n, toComplete) && !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeFixed completes a flag from a fixed set of values.
func completeFixed(values ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
}

func clientAndNamespace(f *Factory) (*apiview.Client, string, error) {
	c, err := f.Client()
	if err != nil {
		return nil, "", err
	}
	ns, err := f.Namespace()
	return c, ns, err
}

func listInstances(ctx context.Context, f *Factory, _ *cobra.Command) ([]string, error) {
	c, ns, err := clientAndNamespace(f)
	if err != nil {
		return nil, err
	}
	items, err := c.Instances(ctx, ns)
	names := make([]string, len(items))
	for i := range items {
		names[i] = items[i].Name
	}
	return names, err
}

func listBindings(ctx context.Context, f *Factory, _ *cobra.Command) ([]string, error) {
	c, ns, err := clientAndNamespace(f)
	if err != nil {
		return nil, err
	}
	items, err := c.Bindings(ctx, ns)
	names := make([]string, len(items))
	for i := range items {
		names[i] = items[i].Name
	}
	return names, err
}

func listBrokers(ctx context.Context, f *Factory, _ *cobra.Command) ([]string, error) {
	c, ns, err := clientAndNamespace(f)
	if err != nil {
		return nil, err
	}
	brokers, err := c.Brokers(ctx, apiview.AllScope, ns)
	return brokerNames(brokers), err
}

func listClasses(ctx context.Context, f *Factory, _ *cobra.Command) ([]string, error) {
	c, ns, err := clientAndNamespace(f)
	if err != nil {
		return nil, err
	}
	classes, err := c.Classes(ctx, apiview.AllScope, ns)
	names := make([]string, len(classes))
	for i, cl := range classes {
		names[i] = cl.Spec.ExternalName
	}
	return names, err
}

// listPlans completes plan names, only the --class's when it is given, and
// CLASS/PLAN pairs for commands that take them as an argument.
func listPlans(pairs bool) lister {
	return func(ctx context.Context, f *Factory, cmd *cobra.Command) ([]string, error) {
		c, ns, err := clientAndNamespace(f)
		if err != nil {
			return nil, err
		}
		off, err := c.Offerings(ctx, apiview.AllScope, ns)
		if err != nil {
			return nil, err
		}
		class := ""
		if fl := cmd.Flags().Lookup("class"); fl != nil {
			class = fl.Value.String()
		}
		var names []string
		for _, cl := range off.Classes {
			if class != "" && cl.Spec.ExternalName != class {
				continue
			}
			for _, p := range off.PlansOf(cl) {
				if pairs {
					names = append(names, cl.Spec.ExternalName+"/"+p.Spec.ExternalName)
				} else {
					names = append(names, p.Spec.ExternalName)
				}
			}
		}
		return names, nil
	}
}

// registerCompletions wires argument and flag completion across the tree,
// by command path, so the commands stay free of it. An error means a path or
// flag below names nothing: a mistake TestRegisterCompletions catches.
func registerCompletions(f *Factory, root *cobra.Command) error {
	args := map[string]lister{
		"describe instance": listInstancesAndShared, "deprovision": listInstances, "touch instance": listInstances, "upgrade instance": listInstances, "update instance": listInstances,
		"bind": listInstancesAndShared, "unbind": listInstances, "get instances": listInstances,
		"describe binding": listBindings, "get bindings": listBindings, "rotate binding": listBindings,
		"describe broker": listBrokers, "deregister": listBrokers, "sync broker": listBrokers, "get brokers": listBrokers,
		"describe class": listClasses, "get classes": listClasses,
		"describe plan": listPlans(true), "get plans": listPlans(true),
	}
	flags := map[string]map[string]cobra.CompletionFunc{
		"provision":     {"class": completeFrom(f, listClasses), "plan": completeFrom(f, listPlans(false))},
		"get plans":     {"class": completeFrom(f, listClasses)},
		"get instances": {"class": completeFrom(f, listClasses), "plan": completeFrom(f, listPlans(false))},
		"get classes":   {"broker": completeFrom(f, listBrokers)},
		"unbind":        {"name": completeFrom(f, listBindings)},
		"register":      {"relist-behavior": completeFixed("duration", "manual")},
		"broker check":  {"output": completeFixed("text", "json", "junit")},
	}
	formats := make([]string, len(output.Formats))
	for i, fm := range output.Formats {
		formats[i] = string(fm)
	}
	var errs []error
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		path := strings.TrimPrefix(c.CommandPath(), c.Root().CommandPath()+" ")
		if l, ok := args[path]; ok {
			c.ValidArgsFunction = completeNames(f, l)
			delete(args, path)
		}
		own := flags[path]
		for name, fn := range own {
			errs = append(errs, c.RegisterFlagCompletionFunc(name, fn))
		}
		delete(flags, path)
		if _, custom := own["output"]; !custom && c.Flags().Lookup("output") != nil {
			errs = append(errs, c.RegisterFlagCompletionFunc("output", completeFixed(formats...)))
		}
		if fl := c.Flags().Lookup("scope"); fl != nil {
			values := []string{"cluster", "namespace"}
			if fl.DefValue == string(apiview.AllScope) {
				values = append([]string{"all"}, values...)
			}
			errs = append(errs, c.RegisterFlagCompletionFunc("scope", completeFixed(values...)))
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	for path := range args {
		errs = append(errs, fmt.Errorf("completion for unknown command %q", path))
	}
	for path := range flags {
		errs = append(errs, fmt.Errorf("flag completion for unknown command %q", path))
	}
	return errors.Join(errs...)
}
