module slipway.local/handoff

go 1.24

require github.com/caddyserver/caddy/v2 v2.10.2
