package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"activation-bot/flows"
)

func newContent(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "content",
		Short: "Check or print the content pack",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "check [file]",
		Short: "Validate a content pack: errors exit 1, placeholder links are warnings",
		Long: "Validate a content pack (the file given, else CONTENT_FILE, else the embedded pack),\n" +
			"with LINKS_FILE applied. Errors (dangling references, unreachable steps, missing\n" +
			"translations) exit 1; links still left as placeholders are warnings and exit 0.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := LoadConfig(env.Getenv)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				cfg.ContentFile = args[0]
			}
			pack, err := cfg.LoadPack()
			if err != nil {
				return err
			}
			issues := pack.Check()
			errs, warns := 0, 0
			for _, i := range issues {
				fmt.Fprintln(env.Stdout, i)
				if i.Severity == flows.SeverityError {
					errs++
				} else {
					warns++
				}
			}
			fmt.Fprintf(env.Stdout, "%s: %d error(s), %d warning(s)\n", pack.Source, errs, warns)
			if errs > 0 {
				return exitError{code: 1}
			}
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "diagram",
		Short: "Print the flow as a Mermaid flowchart (paste it into any Mermaid editor)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := LoadConfig(env.Getenv)
			if err != nil {
				return err
			}
			pack, err := cfg.LoadPack()
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(env.Stdout, flows.Diagram(pack).Mermaid())
			return err
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "show",
		Short: "Print the embedded content pack, to start your own CONTENT_FILE from",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := env.Stdout.Write(flows.DefaultBytes())
			return err
		},
	})
	return cmd
}
