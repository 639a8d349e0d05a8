/*
 * chat: a lobby client that logs in as a guest, enters a room, says something and
 * prints what is said there.
 *
 *   ./chat URL NAME [MESSAGE [SECONDS [ROOM]]]
 *
 * It stays SECONDS (default 5) in room ROOM (default 0, the entry room).
 */
#include <glou.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s URL NAME [MESSAGE [SECONDS [ROOM]]]\n", argv[0]);
    return 2;
  }
  const char *message = argc > 3 && argv[3][0] ? argv[3] : NULL;
  double seconds = argc > 4 ? atof(argv[4]) : 5;
  uint32_t room = argc > 5 ? (uint32_t)atoi(argv[5]) : 0;

  glou_client *glou = glou_client_new(argv[1]);
  if (!glou) {
    fprintf(stderr, "glou_client_new: %s\n", glou_last_error());
    return 1;
  }
  int64_t login = glou_login_guest(glou, argv[2]), enter = 0, said = 0;
  int status = 0;
  double start = now();
  while (now() - start < seconds) {
    glou_event ev;
    while (glou_poll(glou, &ev) == 1) {
      if (ev.kind == GLOU_EVENT_REPLY && ev.code != GLOU_OK) {
        printf("request %lld failed: %s (%s)\n", (long long)ev.request, ev.message, ev.error);
        status = 1;
        goto done;
      }
      if (ev.kind == GLOU_EVENT_REPLY && (int64_t)ev.request == login) {
        printf("logged in as %s\n", ev.name);
        enter = glou_lobby_enter(glou, room);
        if (enter < 0) {
          printf("glou_lobby_enter: %s\n", glou_last_error());
          status = 1;
          goto done;
        }
      } else if (ev.kind == GLOU_EVENT_REPLY && (int64_t)ev.request == enter) {
        printf("in room %u\n", room);
        if (message)
          said = glou_chat(glou, NULL, message);
      } else if (ev.kind == GLOU_EVENT_REPLY && (int64_t)ev.request == said) {
        printf("said it\n");
      } else if (ev.kind == GLOU_EVENT_CHAT) {
        printf("chat %s <%s> %s\n", ev.detail, ev.name, ev.text);
      }
    }
    fflush(stdout);
    struct timespec frame = {0, 16 * 1000 * 1000};
    nanosleep(&frame, NULL);
  }
done:
  fflush(stdout);
  glou_client_free(glou);
  return status;
}
