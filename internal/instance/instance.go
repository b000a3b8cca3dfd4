// Package instance wires one running Rampart together: store, pages,
// health, media and the server's request path, from a validated config.
package instance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/api"
	"github.com/rampart-social/rampart/internal/buildinfo"
	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/delivery"
	"github.com/rampart-social/rampart/internal/emoji"
	"github.com/rampart-social/rampart/internal/events"
	"github.com/rampart-social/rampart/internal/federation"
	"github.com/rampart-social/rampart/internal/health"
	"github.com/rampart-social/rampart/internal/httpsec"
	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/inbox"
	"github.com/rampart-social/rampart/internal/jobs"
	"github.com/rampart-social/rampart/internal/media"
	"github.com/rampart-social/rampart/internal/oauth"
	"github.com/rampart-social/rampart/internal/outbound"
	"github.com/rampart-social/rampart/internal/outbox"
	"github.com/rampart-social/rampart/internal/passkeys"
	"github.com/rampart-social/rampart/internal/password"
	"github.com/rampart-social/rampart/internal/profiling"
	"github.com/rampart-social/rampart/internal/push"
	"github.com/rampart-social/rampart/internal/remote"
	"github.com/rampart-social/rampart/internal/safely"
	"github.com/rampart-social/rampart/internal/secondfactor"
	"github.com/rampart-social/rampart/internal/server"
	"github.com/rampart-social/rampart/internal/session"
	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/streaming"
	"github.com/rampart-social/rampart/internal/web"
)

// Instance is an opened Rampart: its store is open, its services and handler built.
type Instance struct {
	cfg      *config.Config
	log      *slog.Logger
	store    *store.Store
	accounts *accounts.Service
	oauth    *oauth.Service
	media    *media.Service
	social   *social.Service
	emoji    *emoji.Service
	remote   *remote.Accounts
	jobs     []*jobs.Runner // local work, deliveries, received activities
	hub      *streaming.Hub
	idWorker *idWorker
	relay    *events.Relay // PostgreSQL: events cross processes (relay.go)
	handler  http.Handler
	factors  *secondfactor.Service
}

// Options adjust how an instance is assembled.
type Options struct {
	// AppRoutes, when set, may add routes to the instance host. Only tests
	// use it (e.g. a route that panics, to prove 500s carry the headers).
	AppRoutes func(mux *http.ServeMux)
	// StoreRoutes, when set, may add routes that reach the instance's
	// store. Only test binaries set it (e.g. a route that makes a
	// scheduled status due now, for the job path to publish).
	StoreRoutes func(mux *http.ServeMux, st *store.Store)
	// KeyPairs, when set, hands out the RSA key pairs accounts get
	// (accounts.(*Service).WithKeyPairs). Only tests set it, with keys made
	// ahead of time (testutil.RSAKeyPair); unset, each is generated.
	KeyPairs func() (pub, priv string, err error)
}

// OpenStore opens the database that database.driver names and brings its
// schema up to date.
func OpenStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (*store.Store, error) {
	if cfg.Database.Driver != config.DriverPostgres {
		return store.OpenSQLite(ctx, cfg.DatabasePath(), log)
	}
	dsn, err := cfg.DatabaseDSN()
	if err != nil {
		return nil, err
	}
	return store.OpenPostgres(ctx, dsn, store.PostgresOptions{
		MaxConnections:   int(cfg.Database.MaxConnections),
		StatementTimeout: cfg.Database.StatementTimeout.D(),
	}, log)
}

// Open prepares the data directory and store and builds the request path.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger, opts Options) (*Instance, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data_dir: %w", err)
	}
	st, err := OpenStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	st.UseAllowList(cfg.Federation.Mode == config.FederationAllowlist)
	ids := id.NewGenerator()
	worker, err := leaseIDWorker(ctx, st, ids, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	acc := accounts.New(cfg, st, ids, password.NewHasher(password.Default, runtime.NumCPU())).WithLog(log).WithKeyPairs(opts.KeyPairs)
	if n, err := acc.EnsureKeys(ctx); err != nil {
		worker.release()
		st.Close()
		return nil, fmt.Errorf("actor keys: %w", err)
	} else if n > 0 {
		log.Info("gave existing accounts their Ed25519 actor key", "count", n)
	}
	oa := oauth.New(st, ids, accounts.LimiterKey(cfg)).WithTokenLifetime(cfg.Security.AccessTokenLifetime.D())
	sessions, err := session.New(cfg, st)
	if err != nil {
		worker.release()
		st.Close()
		return nil, err
	}
	sec := httpsec.New(cfg)
	// The one way out to other servers: the guarded client, and documents
	// fetched through it signed as the instance actor.
	client := outbound.New(outbound.Config{
		UserAgent: "Rampart/" + buildinfo.Version + " (+" + cfg.InstanceURL().String() + ")",
		TestHosts: cfg.Federation.TestHosts,
	})
	base := strings.TrimSuffix(cfg.InstanceURL().String(), "/")
	// Nothing is fetched from, nor looked up on, a blocked domain; no
	// document is taken from another server's upload host.
	fetcher := remote.NewFetcher(client, remote.InstanceSigning(acc, federation.InstanceKeyID(base)), cfg.InstanceURL(), cfg.MediaOrigin()).
		WithBlocked(st.DomainBlocked).WithMediaHosts(st.RemoteMediaHost)
	remoteAccounts := remote.NewAccounts(log, client, fetcher, st, ids)
	// Two runners: local work waits on the one SQLite writer, and more of
	// it at once only queues there (16 fan-outs at once cost a post three
	// times the CPU of 4); deliveries wait on other servers, so they get
	// more workers than CPUs, each delivery bounded in time and per host.
	runner := jobs.New(st, log, jobs.Options{Workers: localJobWorkers})
	deliverer := delivery.New(client, acc, st, log, delivery.Options{})
	deliveries := jobs.New(st, log, jobs.Options{Workers: deliveryWorkers, SkipHosts: deliverer.BusyHosts})
	// Received activities may fetch from other servers (an actor, a
	// thread, an announced post): a runner of their own, so that a slow
	// server holds none of the local work.
	received := jobs.New(st, log, jobs.Options{Workers: inboxWorkers})
	wake := func() { runner.Wake(); deliveries.Wake() }
	// Committed changes reach the live streams through one bus, on
	// PostgreSQL by way of every process's relay (publisher).
	bus := events.NewBus(log)
	pub, relay := publisher(st, bus, log)
	so := social.New(cfg, st, ids, remoteAccounts).WithJobs(wake).WithEvents(pub).WithLimits(accounts.LimiterKey(cfg))
	acc.WithJobs(wake).WithEvents(pub)
	pushes, err := push.New(ctx, cfg, st, ids, client, log)
	if err != nil {
		worker.release()
		st.Close()
		return nil, err
	}
	so.WithPush(pushes.Notified)
	runner.Handle(store.KindFanOut, so.FanOutJob)
	runner.Handle(store.KindPollExpire, so.PollExpireJob)
	runner.Handle(store.KindPublishScheduled, so.PublishScheduledJob)
	runner.Handle(store.KindPublish, outbox.New(st, so, acc, outbox.NewRenderer(cfg), log, deliveries.Wake).Job)
	received.Handle(store.KindInbox, inbox.New(st, so, remoteAccounts, log).Job)
	deliveries.Handle(store.KindDeliver, deliverer.Job)
	// A push waits on a push service, as a delivery on another server.
	deliveries.Handle(store.KindPushDeliver, pushes.Job)
	factors, err := secondfactor.New(cfg, st, acc)
	if err != nil {
		worker.release()
		st.Close()
		return nil, err
	}
	keys := passkeys.New(cfg, st, ids, acc).WithLog(log)
	mux := http.NewServeMux()
	pages := web.New(web.Deps{Config: cfg, Log: log, Store: st, Sessions: sessions, Accounts: acc, OAuth: oa, Security: sec, Social: so,
		SecondFactor: factors, Passkeys: keys})
	pages.Register(mux)
	storage, err := media.NewLocal(cfg.MediaDir())
	if err != nil {
		worker.release()
		st.Close()
		return nil, err
	}
	ms := media.New(cfg, st, storage, ids, log).WithUploadLimit(accounts.LimiterKey(cfg))
	acc.WithMedia(ms) // avatars and headers, for the API and the settings pages alike
	clientAPI := api.New(api.Deps{Config: cfg, Log: log, Store: st, Accounts: acc, OAuth: oa, Social: so, Media: ms, Push: pushes})
	pushes.WithIcon(clientAPI.Entities().Avatar)
	clientAPI.Register(mux)
	hub := streaming.New(streaming.Deps{Config: cfg, Log: log, OAuth: oa, Social: so, Entities: clientAPI.Entities(), Bus: bus})
	hub.Register(mux)
	federation.New(federation.Deps{Config: cfg, Log: log, Accounts: so, Notes: so, Keys: acc, Blocks: so, Fetcher: fetcher,
		Received: inbox.NewQueue(st, received.Wake)}).Register(mux)
	healthz := health.Handler(st, log)
	mux.Handle("GET /livez", healthz)
	mux.Handle("GET /readyz", healthz)
	if opts.AppRoutes != nil {
		opts.AppRoutes(mux)
	}
	if opts.StoreRoutes != nil {
		opts.StoreRoutes(mux, st)
	}
	h := server.Handler(cfg, log, sec, server.Handlers{App: mux, Media: ms.Handler(log, api.IsPath), Health: healthz,
		ErrorPage: pages.ErrorPage, IsAPI: api.IsPath, APIError: api.WriteError})
	return &Instance{cfg: cfg, log: log, store: st, accounts: acc, oauth: oa, media: ms, social: so, emoji: emoji.New(st, ms, ids), remote: remoteAccounts,
		factors: factors,
		jobs:    []*jobs.Runner{runner, deliveries, received}, hub: hub, idWorker: worker, relay: relay, handler: h}, nil
}

// Accounts is the account service (the admin CLI uses it).
func (i *Instance) Accounts() *accounts.Service { return i.accounts }

// SecondFactor is the second-factor service (the admin CLI resets with it).
func (i *Instance) SecondFactor() *secondfactor.Service { return i.factors }

// Media is the upload service (the admin CLI prunes with it).
func (i *Instance) Media() *media.Service { return i.media }

// Social is the social core's service (the admin CLI writes announcements with it).
func (i *Instance) Social() *social.Service { return i.social }

// Emoji is the custom emoji service (the admin CLI adds and removes them with it).
func (i *Instance) Emoji() *emoji.Service { return i.emoji }

// OAuth is the authorization server's service.
func (i *Instance) OAuth() *oauth.Service { return i.oauth }

// Handler is the full request path, for serving on any listener.
func (i *Instance) Handler() http.Handler { return i.handler }

// Store is the instance's open store.
func (i *Instance) Store() *store.Store { return i.store }

// Serve answers on ln until ctx ends, then drains and returns. Stopping has
// one window, http.shutdown_timeout from the end of ctx: requests in flight
// drain within it (server.Serve), and uploads processing in the background
// get the same time to finish, then are cancelled and marked failed
// (media.(*Service).Stop). Serve returns when both are done and the janitor
// has stopped; background uploads do not start again.
func (i *Instance) Serve(ctx context.Context, ln net.Listener) error {
	if err := i.recoverFromPreviousRun(ctx); err != nil {
		return err
	}
	i.warnStaffWithoutSecondFactor(ctx)
	var prof *profiling.Listener
	if addr := i.cfg.Debug.PprofListen; addr != "" {
		var err error
		if prof, err = profiling.Listen(addr, i.log); err != nil {
			return err
		}
	}
	jctx, stop := context.WithCancel(ctx)
	bg := safely.NewGroup(i.log)
	defer bg.Wait()
	defer stop()
	if prof != nil {
		_ = bg.Go("profiling listener", func() error {
			if err := prof.Serve(jctx); err != nil {
				i.log.Error("profiling listener stopped", "err", err)
			}
			return nil
		})
	}
	_ = bg.Go("janitor", func() error { i.janitor(jctx); return nil })
	if i.store.Engine() == config.DriverPostgres {
		_ = bg.Go("orphaned uploads", func() error { i.sweepOrphanedUploads(jctx); return nil })
	}
	// Streams end (1001) when serving stops.
	_ = bg.Go("streaming hub", func() error { return i.hub.Run(jctx) })
	i.startRelay(jctx, bg)
	// The job runner stops with serving; jobs in hand finish or are put
	// back, and what is left runs at the next start.
	for _, r := range i.jobs {
		_ = bg.Go("job runner", func() error { r.Run(jctx); return nil })
	}
	_ = bg.Go("stopping background uploads", func() error {
		<-jctx.Done() // ctx ended, or serving failed
		i.stopMedia(ctx)
		return nil
	})
	return server.Serve(ctx, i.cfg, i.log, server.NewHTTPServer(i.cfg, i.log, i.handler), ln)
}

// recoverFromPreviousRun puts right what a serving process that died left:
// SQLite has one serving process, so an upload still "processing" now is
// failed, and a job still leased is due again (each job runs at least once;
// handlers are idempotent), rather than held for the rest of its lease.
// Only Serve does it: an admin command opening the store beside a running
// server must not touch that server's work. On PostgreSQL other processes
// may be serving: their uploads and leases are theirs, and a dead
// process's are taken back by age alone (the janitor fails uploads stuck
// for 10 minutes; a lease ends after jobs.DefaultLease).
func (i *Instance) recoverFromPreviousRun(ctx context.Context) error {
	if i.store.Engine() == config.DriverPostgres {
		if err := i.failOrphanedUploads(ctx); err != nil {
			return err
		}
		return i.ensureFanOut(ctx)
	}
	if n, err := i.store.FailStaleUploads(ctx, time.Now(), store.FailureServerStopped); err != nil {
		return err
	} else if n > 0 {
		i.log.Warn("uploads left unprocessed by a previous run were marked failed", "count", n)
	}
	if n, err := i.store.ReleaseJobLeases(ctx); err != nil {
		return err
	} else if n > 0 {
		i.log.Warn("jobs a previous run had claimed are due again", "count", n)
	}
	return i.ensureFanOut(ctx)
}

// ensureFanOut gives pending fan-outs a job when none will run soon (at
// start, and hourly from the janitor): posts wait for the job, and a
// buried one with no post since would leave them waiting.
func (i *Instance) ensureFanOut(ctx context.Context) error {
	added, err := i.store.EnsureFanOutJob(ctx, time.Now())
	if added {
		i.log.Warn("pending fan-outs had no job to run them; one was enqueued")
	}
	return err
}

// failOrphanedUploads fails the uploads whose process has gone (on
// PostgreSQL, where other processes may be processing theirs).
func (i *Instance) failOrphanedUploads(ctx context.Context) error {
	n, err := i.store.FailOrphanedUploads(ctx, time.Now(), store.FailureServerStopped)
	if n > 0 {
		i.log.Warn("uploads left unprocessed by a process that stopped were marked failed", "count", n)
	}
	return err
}

// sweepOrphanedUploads runs failOrphanedUploads as often as id worker
// leases are renewed: a process killed mid-upload has its uploads failed
// within a lease or two, and the client knows to upload again.
func (i *Instance) sweepOrphanedUploads(ctx context.Context) {
	t := time.NewTicker(idWorkerRenew)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = safely.Do(i.log, "orphaned uploads", func() error {
				if err := i.failOrphanedUploads(ctx); err != nil && ctx.Err() == nil {
					i.log.Warn("failing orphaned uploads", "err", err)
				}
				return nil
			})
		}
	}
}

// stopMedia stops background uploads, giving those in flight
// http.shutdown_timeout to finish.
func (i *Instance) stopMedia(ctx context.Context) {
	grace, cancel := context.WithTimeout(context.WithoutCancel(ctx), i.cfg.HTTP.ShutdownTimeout.D())
	defer cancel()
	i.media.Stop(grace)
}

// janitor removes expired sessions, authorization codes and idempotency
// keys, and sweeps uploads, every hour.
func (i *Instance) janitor(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		// A panic in one round is logged and the next round still runs.
		// Processes sharing a PostgreSQL database never run rounds at once:
		// a process whose turn comes while another's round runs skips it.
		_ = safely.Do(i.log, "janitor round", func() error {
			ran, err := i.store.Exclusively(ctx, "janitor", func(ctx context.Context) error { i.janitorRound(ctx); return nil })
			if err == nil && !ran {
				i.log.Debug("janitor round left to another process")
			}
			return err
		})
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// janitorRound is one hourly clean-up.
func (i *Instance) janitorRound(ctx context.Context) {
	now := time.Now()
	if err := errors.Join(i.store.DeleteExpiredSessions(ctx, now), i.store.DeleteExpiredCodes(ctx, now),
		i.store.DeleteOldIdempotencyKeys(ctx, now.Add(-time.Hour).UnixMilli())); err != nil && ctx.Err() == nil {
		i.log.Warn("removing expired sessions, codes and keys", "err", err)
	}
	// Activity ids are remembered longer than any peer retries a delivery.
	if _, err := i.store.PruneReceivedActivities(ctx, now.Add(-inbox.RememberIDs)); err != nil && ctx.Err() == nil {
		i.log.Warn("forgetting received activity ids", "err", err)
	}
	// The security history keeps a year (and 100 per account, kept as each is written).
	if _, err := i.store.PruneSecurityEvents(ctx, now.Add(-store.SecurityEventsAge)); err != nil && ctx.Err() == nil {
		i.log.Warn("pruning security events", "err", err)
	}
	// Rate-limit windows that have ended count for nothing: their rows go.
	if _, err := i.store.PruneRateLimits(ctx, now); err != nil && ctx.Err() == nil {
		i.log.Warn("pruning rate limits", "err", err)
	}
	if err := i.ensureFanOut(ctx); err != nil && ctx.Err() == nil {
		i.log.Warn("janitor: pending fan-outs", "err", err)
	}
	// NodeInfo's active users, counted here so that serving them is one row.
	if err := i.store.CountActiveUsers(ctx, now); err != nil && ctx.Err() == nil {
		i.log.Warn("counting active users", "err", err)
	}
	// Processing is bounded at five minutes: anything older is stuck.
	if _, err := i.store.FailStaleUploads(ctx, now.Add(-10*time.Minute), store.FailureStuck); err != nil && ctx.Err() == nil {
		i.log.Warn("failing stuck uploads", "err", err)
	}
	if n, err := i.remote.Refresh(ctx); err != nil && ctx.Err() == nil {
		i.log.Warn("refreshing remote accounts", "err", err)
	} else if n > 0 {
		i.log.Info("refreshed remote accounts", "count", n)
	}
	if swept, err := i.media.Sweep(ctx); err != nil && ctx.Err() == nil {
		i.log.Warn("sweeping uploads", "err", err)
	} else if swept.Files > 0 || swept.Rows > 0 {
		i.log.Info("swept uploads", "rows", swept.Rows, "files", swept.Files, "bytes", swept.Bytes)
	}
}

// Close stops background uploads (after Serve, they are stopped already;
// otherwise those in flight get http.shutdown_timeout to finish, as in
// Serve), then releases the store: no work of the instance outlives it.
func (i *Instance) Close() error {
	i.stopMedia(context.Background())
	return errors.Join(i.idWorker.release(), i.store.Close())
}

// uidToCheck is the uid checkUser judges: 0 when the real, effective or saved
// uid is 0, since a process with root as its real or saved uid can make its
// effective uid root again at any time (`setpriv --euid=65534` run by root
// leaves the real uid 0); otherwise the effective uid.
func uidToCheck(ruid, euid, suid int) int {
	if ruid == 0 || euid == 0 || suid == 0 {
		return 0
	}
	return euid
}

// checkUser is the rule on the user Rampart runs as (uidToCheck): root is refused
// in prod unless security.allow_root = true, and whenever it is let run, it
// is warned about at every start. (A flaw anywhere in the process would own
// the machine, and files it creates would be root's.)
func checkUser(cfg *config.Config, euid int) (warning string, err error) {
	if euid != 0 {
		return "", nil
	}
	switch {
	case cfg.IsDev():
		return "running as root: a flaw anywhere in Rampart would own the whole machine; fine for a local try, never for an instance", nil
	case cfg.Security.AllowRoot:
		return "running as root because security.allow_root = true: a flaw anywhere in Rampart would own the whole machine; run it as its own user (the unit from `rampart gen systemd` does)", nil
	}
	return "", errors.New("refusing to run as root in prod: a flaw anywhere in Rampart would own the whole machine; run it as its own user (the unit from `rampart gen systemd` does), or set security.allow_root = true to accept the risk")
}

// LogStartup states the environment and every risky choice the config makes.
func LogStartup(cfg *config.Config, log *slog.Logger) {
	log.Info("starting Rampart", "version", buildinfo.Version, "commit", buildinfo.Commit(), "env", cfg.Env)
	if cfg.IsDev() {
		log.Warn("DEV ENVIRONMENT — NOT FOR PRODUCTION: plain http on loopback is allowed and logs are for humans; use env = \"prod\" for a real instance")
	}
	for _, w := range cfg.Warnings() {
		log.Warn(w)
	}
}

// heapFloor is an allocation the server holds and never touches, so it costs
// address space, not memory: it raises the garbage collector's goal (twice
// the live heap) from a few MiB to about 2 × (live + 16 MiB). Rampart's live
// heap is a few MiB, so with Go's default the collector ran every 7 or so
// timeline requests, and each cycle has to preempt the SQLite code's long
// loops: 25-40 % of a timeline's CPU went there. A large live heap (an image
// being decoded) still gets the default's proportion, plus this constant.
const heapFloor = 16 << 20

// How many jobs run at once: local work (fan-outs, publishing), which
// waits on the one writer; deliveries, which wait on other servers (the
// bound on deliveries in flight); and received activities, which may wait
// on other servers too.
const (
	localJobWorkers = 4
	deliveryWorkers = 16
	inboxWorkers    = 8
)

// Run is `rampart serve`: listen, open, serve until ctx ends, close.
func Run(ctx context.Context, cfg *config.Config, log *slog.Logger, opts Options) error {
	asRoot, err := checkUser(cfg, uidToCheck(processUIDs()))
	if err != nil {
		return err
	}
	LogStartup(cfg, log)
	if asRoot != "" {
		log.Warn(asRoot)
	}
	ln, err := server.Listen(cfg)
	if err != nil {
		return err
	}
	floor := make([]byte, heapFloor)
	defer runtime.KeepAlive(floor)
	inst, err := Open(ctx, cfg, log, opts)
	if err != nil {
		ln.Close()
		return err
	}
	serveErr := inst.Serve(ctx, ln) // background uploads are stopped too
	if err := inst.Close(); err != nil {
		log.Error("closing the store", "err", err)
		serveErr = errors.Join(serveErr, err)
	}
	if serveErr == nil {
		log.Info("stopped cleanly")
	}
	return serveErr
}
