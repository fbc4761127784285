package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"activation-bot/adapters/web"
	"activation-bot/bot"
)

func newServe(env Env) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the bot: migrations, then the HTTP server (/healthz, /readyz)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			a, err := openApp(ctx, env, slog.LevelInfo, true)
			if err != nil {
				return err
			}
			defer a.db.Close()
			// The engine is built even before adapters use it, so a broken
			// content pack stops the deploy here rather than at the first student.
			if _, err := a.engine(bot.SystemClock{}); err != nil {
				return err
			}
			if addr == "" {
				addr = net.JoinHostPort("", strconv.Itoa(a.cfg.Port))
			}
			return serveHTTP(ctx, addr, web.Routes(a.db, a.log), a.log)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "", "listen address (default :PORT)")
	return cmd
}

// serveHTTP serves until ctx is done, then drains in-flight requests.
func serveHTTP(ctx context.Context, addr string, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("PORT: listen on %s: %w", addr, err)
	}
	log.InfoContext(ctx, "serving", slog.String("addr", ln.Addr().String()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down http: %w", err)
	}
	return nil
}
