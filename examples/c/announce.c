/*
 * announce: a game server that lists itself on one or more Glou servers and keeps its
 * player count current, from a game loop that polls libglou once a frame.
 *
 *   ./announce URLS [PORT [SECONDS]]
 *
 * URLS is one base URL ("http://127.0.0.1:5680") or several separated by spaces; the
 * server is listed on each. It runs SECONDS (default: until killed), one player more
 * every second, then withdraws its listing and exits.
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

static void sleep_frame(void) {
  struct timespec frame = {0, 16 * 1000 * 1000}; /* about 60 frames a second */
  nanosleep(&frame, NULL);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s URLS [PORT [SECONDS]]\n", argv[0]);
    return 2;
  }
  int port = argc > 2 ? atoi(argv[2]) : 27999;
  double seconds = argc > 3 ? atof(argv[3]) : 0;

  glou_client *glou = glou_client_new(argv[1]);
  if (!glou) {
    fprintf(stderr, "glou_client_new: %s\n", glou_last_error());
    return 1;
  }
  /* What the listing says; set before or after starting, as the game likes. */
  glou_announce_set(glou, "name", "C example server");
  glou_announce_set(glou, "map", "q3dm17");
  glou_announce_set(glou, "version", "1.0");
  glou_announce_set_rule(glou, "mode", "ffa");
  if (glou_announce_start(glou, "glouexample", (uint16_t)port) != GLOU_OK) {
    fprintf(stderr, "glou_announce_start: %s\n", glou_last_error());
    glou_client_free(glou);
    return 1;
  }
  glou_announce_set_counts(glou, 0, 16, 0);

  double start = now(), next_player = start + 1;
  unsigned players = 0;
  while (seconds <= 0 || now() - start < seconds) {
    glou_event ev;
    while (glou_poll(glou, &ev) == 1) {
      switch (ev.kind) {
      case GLOU_EVENT_ANNOUNCED:
        printf("announced on %s as %s\n", ev.url, ev.text);
        break;
      case GLOU_EVENT_ANNOUNCE_FAILED:
        printf("announce failed on %s: %s (%s)\n", ev.url, ev.message, ev.error);
        break;
      default:
        break;
      }
    }
    if (now() >= next_player && players < 16) {
      players++;
      next_player += 1;
      /* Only the change travels, at most once a second. */
      glou_player list[16];
      char names[16][16];
      for (unsigned i = 0; i < players; i++) {
        snprintf(names[i], sizeof names[i], "bot%u", i + 1);
        list[i].name = names[i];
        list[i].score = (int64_t)(i * 3);
        list[i].ping = 20 + i;
      }
      glou_announce_set_counts(glou, players, 16, 0);
      glou_announce_set_player_list(glou, list, players);
      printf("players %u\n", players);
    }
    fflush(stdout);
    sleep_frame();
  }
  /* Withdraws the listing everywhere (waits at most about 2 s). */
  glou_client_free(glou);
  printf("withdrawn\n");
  return 0;
}
