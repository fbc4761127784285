package cli

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"
)

func newMigrate(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply the embedded database migrations (Postgres or SQLite)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openApp(cmd.Context(), env, slog.LevelInfo, false)
			if err != nil {
				return err
			}
			defer a.db.Close()
			n, err := a.db.Migrate(cmd.Context(), a.log)
			if err != nil {
				return fmt.Errorf("DATABASE_URL: %w", err)
			}
			fmt.Fprintf(env.Stdout, "%d migration(s) applied to the %s database\n", n, a.db.Kind())
			return nil
		},
	}
}
