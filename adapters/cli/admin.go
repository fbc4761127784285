package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"activation-bot/adapters/web"
	"activation-bot/bot"
	"activation-bot/storage"
)

// newAdmin is `admin`: the people of the web console.
func newAdmin(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Manage the admin console's users: helpdesk agents and admins",
	}
	cmd.AddCommand(adminAdd(env), adminList(env), adminLink(env), adminRemove(env))
	return cmd
}

func adminAdd(env Env) *cobra.Command {
	var role string
	cmd := &cobra.Command{
		Use:   "add USER",
		Short: "Add a console user and print a one-time link (24 hours) to set their password",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if !storage.ValidUserName(name) {
				return fmt.Errorf("USER: %q: use letters, digits and . _ - @ (at most 64)", name)
			}
			if !storage.ValidRole(role) {
				return fmt.Errorf("--role: %q is not agent or admin", role)
			}
			return withApp(cmd, env, func(a *app) error {
				c := storage.NewConsole(a.db)
				if _, err := c.AddUser(cmd.Context(), name, role); err != nil {
					if errors.Is(err, storage.ErrUserExists) {
						return fmt.Errorf("%w (use `admin link %s` for a new password link)", err, name)
					}
					return err
				}
				if err := c.Record(cmd.Context(), storage.AuditEntry{Actor: operator().Identity, Action: storage.ActionUser,
					Subject: "web:" + name, Detail: "added as " + role}); err != nil {
					return err
				}
				return printLink(cmd.Context(), env, a, name, fmt.Sprintf("Added %s (%s).", name, role))
			})
		},
	}
	cmd.Flags().StringVar(&role, "role", storage.RoleAgent, "agent (tickets) or admin (everything)")
	return cmd
}

func adminLink(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "link USER",
		Short: "Print a new one-time link (24 hours) to set a console user's password",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withApp(cmd, env, func(a *app) error {
				if _, err := storage.NewConsole(a.db).User(cmd.Context(), args[0]); err != nil {
					if errors.Is(err, bot.ErrNotFound) {
						return fmt.Errorf("no console user %q (see `admin list`)", args[0])
					}
					return err
				}
				return printLink(cmd.Context(), env, a, args[0], "")
			})
		},
	}
}

func printLink(ctx context.Context, env Env, a *app, name, intro string) error {
	link, err := web.SetupLink(ctx, a.db, a.cfg.PublicURL, name)
	if err != nil {
		return err
	}
	if intro != "" {
		fmt.Fprintln(env.Stdout, intro)
	}
	fmt.Fprintf(env.Stdout, "Send them this one-time link to set a password (valid 24 hours):\n  %s\n", link)
	return nil
}

func adminList(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the console users",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd, env, func(a *app) error {
				users, err := storage.NewConsole(a.db).Users(cmd.Context())
				if err != nil {
					return err
				}
				if len(users) == 0 {
					fmt.Fprintln(env.Stdout, "No console users. Add one with `activation-bot admin add NAME --role admin`.")
					return nil
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "USER\tROLE\tPASSWORD\tADDED")
				for _, u := range users {
					pw := "set"
					if u.PasswordHash == "" {
						pw = "not yet"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, u.Role, pw, u.Created.In(a.cfg.Location).Format("2006-01-02 15:04"))
				}
				return tw.Flush()
			})
		},
	}
}

func adminRemove(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "remove USER",
		Short: "Remove a console user; their sessions end at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withApp(cmd, env, func(a *app) error {
				c := storage.NewConsole(a.db)
				if err := c.RemoveUser(cmd.Context(), args[0]); err != nil {
					if errors.Is(err, bot.ErrNotFound) {
						return fmt.Errorf("no console user %q (see `admin list`)", args[0])
					}
					return err
				}
				if err := c.Record(cmd.Context(), storage.AuditEntry{Actor: operator().Identity, Action: storage.ActionUser,
					Subject: "web:" + args[0], Detail: "removed"}); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "Removed %s.\n", args[0])
				return nil
			})
		},
	}
}
