#!/usr/bin/env bash
# Instructions per proxied request (auth: none, one worker, keep-alive, no body) under
# valgrind --tool=callgrind: the harness of alloc_per_request.sh, counting only the N
# measured requests. The stable figure on a shared, noisy machine (issue 14).
#   load-tests/instructions_per_request.sh [AUTHGATE_BINARY] [N]
exec env INSTRUCTIONS=1 "$(dirname "$0")/alloc_per_request.sh" "$@"
