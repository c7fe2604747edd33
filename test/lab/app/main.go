// A stand-in app release for the Docker lab: one static binary, no shell, no curl, no wget
// (so the lab also proves that health checking needs nothing inside the image).
// Behaviour comes from the environment, so each fault is one container's settings:
//
//	VERSION            body of every page (which release answered)
//	HEALTH=fail        the health endpoint always answers 503 (never healthy)
//	HEALTH_DELAY_MS    the health endpoint answers after this delay (slow health)
//	PAGE_STATUS        status of every other page (health OK, app 500)
//	EXIT_AFTER_MS      the process exits this long after its first 200 health answer
//	                   (healthy, then dies during the switch)
//	                   `app migrate` fails when DATABASE_URL contains "fail-migration"
//	WORKER_EXIT_MS     `app worker` exits 1 after this delay (a crash-looping worker)
//	                   `app healthcheck` exits 0 when the health endpoint answers 200 (a
//	                   Docker healthcheck command, for services whose health is `command`)
//
// GET /__fault/503-once makes the next page answer 503 once (a database failover blip).
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func envInt(name string) int {
	n, _ := strconv.Atoi(os.Getenv(name))
	return n
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "migrate" {
		if strings.Contains(os.Getenv("DATABASE_URL"), "fail-migration") {
			fmt.Println("migration 42 failed: relation already exists")
			os.Exit(1)
		}
		fmt.Println("migrations applied")
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		port, path := os.Getenv("PORT"), os.Getenv("HEALTH_PATH")
		if port == "" {
			port = "3000"
		}
		if path == "" {
			path = "/api/v1/health"
		}
		client := http.Client{Timeout: 2 * time.Second}
		res, err := client.Get("http://127.0.0.1:" + port + path)
		if err != nil || res.StatusCode != 200 {
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		if ms := envInt("WORKER_EXIT_MS"); ms > 0 {
			time.Sleep(time.Duration(ms) * time.Millisecond)
			fmt.Println("worker crashed")
			os.Exit(1)
		}
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		return
	}
	version := os.Getenv("VERSION")
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	healthPath := os.Getenv("HEALTH_PATH")
	if healthPath == "" {
		healthPath = "/api/v1/health"
	}
	pageStatus := envInt("PAGE_STATUS")
	if pageStatus == 0 {
		pageStatus = 200
	}
	var once503 atomic.Bool
	var exitOnce sync.Once
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case healthPath:
			if d := envInt("HEALTH_DELAY_MS"); d > 0 {
				time.Sleep(time.Duration(d) * time.Millisecond)
			}
			if os.Getenv("HEALTH") == "fail" {
				w.WriteHeader(503)
				fmt.Fprint(w, "unhealthy")
				return
			}
			if ms := envInt("EXIT_AFTER_MS"); ms > 0 {
				exitOnce.Do(func() {
					go func() { time.Sleep(time.Duration(ms) * time.Millisecond); os.Exit(3) }()
				})
			}
			fmt.Fprint(w, "ok")
		case "/__fault/503-once":
			once503.Store(true)
			fmt.Fprint(w, version)
		default:
			if once503.CompareAndSwap(true, false) {
				w.WriteHeader(503)
				fmt.Fprint(w, "database failover")
				return
			}
			w.WriteHeader(pageStatus)
			fmt.Fprint(w, version)
		}
	})
	srv := &http.Server{Addr: ":" + port, Handler: mux}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		// Like a well-behaved app on `docker stop`: finish in-flight requests, then exit.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
