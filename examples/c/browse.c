/*
 * browse: a server browser that prints a filtered list, then follows its changes live.
 * It sleeps in poll(2) on libglou's descriptor instead of polling every frame.
 *
 *   ./browse URL [FILTER [SECONDS]]
 *
 * FILTER is a query string of the native API ("game=openarena&not_empty=1"; "" for
 * every server). It follows changes for SECONDS (default: until killed).
 */
#include <glou.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void print_server(const char *what, const glou_server_info *s) {
  printf("%s %s %s %s %u/%u map=%s", what, s->game, s->address, s->name, s->players,
         s->max_players, s->map);
  for (size_t i = 0; i < s->rule_count; i++)
    printf(" %s=%s", s->rules[i].key, s->rules[i].value);
  printf("\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s URL [FILTER [SECONDS]]\n", argv[0]);
    return 2;
  }
  const char *filter = argc > 2 ? argv[2] : "";
  double seconds = argc > 3 ? atof(argv[3]) : 0;

  glou_client *glou = glou_client_new(argv[1]);
  if (!glou) {
    fprintf(stderr, "glou_client_new: %s\n", glou_last_error());
    return 1;
  }
  int64_t query = glou_query(glou, filter);
  if (query < 0) {
    fprintf(stderr, "glou_query: %s\n", glou_last_error());
    glou_client_free(glou);
    return 1;
  }
  int status = 0;
  double start = now();
  struct pollfd pfd = {.fd = glou_client_fd(glou), .events = POLLIN};
  while (seconds <= 0 || now() - start < seconds) {
    poll(&pfd, 1, 100); /* wakes when events wait, or every 100 ms */
    glou_event ev;
    while (glou_poll(glou, &ev) == 1) {
      switch (ev.kind) {
      case GLOU_EVENT_SERVER:
        print_server("server", ev.server);
        break;
      case GLOU_EVENT_REPLY:
        if ((int64_t)ev.request == query) {
          if (ev.code != GLOU_OK) {
            printf("query failed: %s\n", ev.message);
            status = 1;
            goto done;
          }
          printf("end of list\n");
          /* Now follow the same servers live. */
          glou_subscribe(glou, "main", filter);
        }
        break;
      case GLOU_EVENT_SERVER_ADDED:
        print_server("added", ev.server);
        break;
      case GLOU_EVENT_SERVER_UPDATED:
        print_server("updated", ev.server);
        break;
      case GLOU_EVENT_SERVER_REMOVED:
        print_server("removed", ev.server);
        break;
      case GLOU_EVENT_SYNCED:
        printf("live\n");
        break;
      case GLOU_EVENT_DISCONNECTED:
        printf("disconnected: %s\n", ev.message);
        break;
      case GLOU_EVENT_REFUSED:
        printf("refused: %s\n", ev.message);
        status = 1;
        goto done;
      default:
        break;
      }
    }
    fflush(stdout);
  }
done:
  fflush(stdout);
  glou_client_free(glou);
  return status;
}
