/*
 * Stop orders, generations and acks: the protocol between the collector and its agents, checked
 * with Spin (collector/src/test/.../StopProtocolModelTest runs it in the build).
 *
 * The collector keeps a set of orders and, per agent, a desired (generation, mode, orders,
 * released orders), as collector/.../core/StopRules.java does; agents enact desired states as
 * agent/.../stop/StopEnactor.java does. A driver issues and resumes orders, disconnects and
 * reconnects agents, restarts the collector, and restores it from an older backup.
 *
 * Safety (asserted on every step): an agent runs only when every order it ever enacted was
 * resumed by an operator; a new generation is above every generation the agent was ever sent,
 * across restores from backups (the clock floor).
 * Convergence (asserted when nothing can move any more): every connected agent has enacted its
 * desired state and the collector counted its ack.
 *
 * Mutants, which the test expects Spin to catch:
 *   -DNO_RELEASE_CHECK  the agent resumes on any RUNNING (does not check the released orders)
 *   -DNO_ADOPTION       a restored collector ignores stops agents report in their Hello
 *   -DNO_CLOCK_FLOOR    generations are only prev+1 (a restored store issues numbers again)
 *   -DNO_ACK_LEARNING   the collector ignores what a refused or stale ack reports
 *   -DREPLACE_HELD      an agent's STOPPED state replaces the orders it held (drops a fail-safe)
 */

#define NA 2          /* agents */
#define NO 3          /* orders ever issued (ids are never reused: ORD-<seq>-<random>) */
#define FLEET 255
#ifndef BUDGET
#define BUDGET 6      /* driver steps */
#endif

/* ---------------------------------------------------------------- the collector's store */
typedef Store {
  bit live[NO];
  bit resumed[NO];
  bit adopted[NO];
  byte scope[NO];      /* FLEET or an agent */
  byte dgen[NA];       /* desired generation */
  bit dmode[NA];       /* 1 = STOPPED */
  byte dorders[NA];    /* bit set of orders in the desired STOPPED state */
  byte dreleased[NA];  /* bit set of orders a desired RUNNING state releases */
  byte held[NA];       /* orders the collector knows the agent holds */
  byte agen[NA];       /* generation and mode of the last counted ack */
  bit amode[NA];
  bit acked[NA];
}
Store st;
Store backup;
bit haveBackup;
bit restored;

byte clock;            /* the collector's clock floor: generations = max(prev+1, clock) */
byte issued;           /* orders issued so far (ids 0..issued-1) */

/* ---------------------------------------------------------------- agents (persisted state) */
byte egen[NA];         /* enacted generation */
bit emode[NA];
byte eorders[NA];      /* orders held while STOPPED */

/* ghosts: what really happened */
byte maxSent[NA];
bit opResumed[NO];
byte everHeld[NA];

bit connected[NA];

/* collector -> agent: gen, mode, orders, released */
chan down[NA] = [6] of { byte, bit, byte, byte };
/* agent -> collector: kind (0 Hello, 1 ack: enacted, 2 ack: refused), agent, gen, mode, and the
   orders the agent holds (those of its enacted STOPPED state) */
chan up = [6] of { byte, byte, byte, bit, byte };
/* a desired state an agent received and has not enacted yet (StopEnactor's "wanted") */
bit wanted[NA];
byte wgen[NA];
bit wmode[NA];
byte words[NA];
byte wrel[NA];

#define has(set, o) ((((set) >> (o)) & 1) == 1)
#define with(set, o) ((set) | (1 << (o)))

inline nextGen(a, prev, out) {
  clock++;
#ifdef NO_CLOCK_FLOOR
  out = prev + 1;
#else
  out = (prev + 1 > clock -> prev + 1 : clock);
#endif
  clock = out;
  /* a new generation is above every generation this agent was ever sent, restores included */
  assert(out > maxSent[a])
}

inline send(a) {
  if
  :: connected[a] ->
     maxSent[a] = (st.dgen[a] > maxSent[a] -> st.dgen[a] : maxSent[a]);
     down[a]!st.dgen[a], st.dmode[a], st.dorders[a], st.dreleased[a]
  :: else -> skip
  fi
}

/* the desired state of agent a from the active orders (StopRules.recompute) */
inline recompute(a) {
  covering = 0;
  for (o : 0 .. NO - 1) {
    if
    :: st.live[o] && (has(st.held[a], o) || (!st.adopted[o] && (st.scope[o] == FLEET || st.scope[o] == a))) ->
       covering = with(covering, o)
    :: else -> skip
    fi
  }
  mode = (covering != 0 -> 1 : 0);
  released = (mode == 1 -> 0 : st.held[a]);
  if
  :: (st.dmode[a] == mode && (mode == 1 -> st.dorders[a] == covering : (st.dreleased[a] & released) == released)) ->
     skip
  :: else ->
     nextGen(a, st.dgen[a], g);
     st.dgen[a] = g;
     st.dmode[a] = mode;
     st.dorders[a] = (mode == 1 -> covering : 0);
     st.dreleased[a] = released;
     st.held[a] = (mode == 1 -> st.held[a] | covering : st.held[a]);
     send(a)
  fi
}

inline recomputeAll() {
  for (b : 0 .. NA - 1) { recompute(b) }
}

/*
 * What an agent reports it enacted (in a Hello, and with every ack): orders this store does not
 * know are adopted, never resumed (StopRules.hello / learn); a generation above ours (the agent
 * enacted a state of an earlier incarnation of this store) makes us send our state again at a
 * generation from our own clock — never at the agent's number.
 */
inline learn(a, gen, ords) {
  for (o : 0 .. NO - 1) {
    if
    :: has(ords, o) ->
#ifndef NO_ADOPTION
       if
       :: !st.live[o] && !st.resumed[o] -> st.live[o] = 1; st.adopted[o] = 1
       :: else -> skip
       fi;
#endif
       st.held[a] = with(st.held[a], o)
    :: else -> skip
    fi
  }
  g = st.dgen[a];
  recompute(a);
  if
  :: st.dgen[a] == g && gen > g ->
     nextGen(a, st.dgen[a], g);
     st.dgen[a] = g;
     send(a);
     g = 0            /* changed, and sent */
  :: else -> skip
  fi;
  changed = (st.dgen[a] != g)
}

proctype Collector() {
  byte a, b, o, covering, released, g, gen, ords, kind;
  bit mode, m, changed;
end:
  do
  :: atomic {
       up?kind, a, gen, m, ords ->
       if
       :: kind == 0 ->   /* Hello: learn, then answer with the desired state (Welcome) */
          learn(a, gen, ords);
          if
          :: !changed -> send(a)   /* unchanged: the Welcome still carries it */
          :: else -> skip          /* recompute sent it */
          fi
       :: kind > 0 ->    /* ack: counted only when it equals the desired (generation, mode) */
          if
          :: kind == 1 && gen == st.dgen[a] && m == st.dmode[a] ->
             st.agen[a] = gen; st.amode[a] = m; st.acked[a] = 1;
             st.held[a] = (m == 1 -> st.dorders[a] | ords : 0)
          :: else -> skip
          fi;
#ifndef NO_ACK_LEARNING
          learn(a, gen, ords)
#else
          skip
#endif
       fi
     }
  od
}

proctype Agent(byte a) {
  byte gen, ords, rel, stale;
  bit mode;
end:
  do
  :: atomic {                 /* the uplink hands a state to the enactor: the latest one wins */
       down[a]?gen, mode, ords, rel ->
       wanted[a] = 1; wgen[a] = gen; wmode[a] = mode; words[a] = ords; wrel[a] = rel
     }
  :: atomic {                 /* the enactor (StopEnactor.enact) */
       wanted[a] ->
       wanted[a] = 0; gen = wgen[a]; mode = wmode[a]; ords = words[a]; rel = wrel[a];
       if
       :: egen[a] == gen && emode[a] == mode && (eorders[a] & ords) == ords ->
          up!1, a, gen, mode, eorders[a]                /* the same state: ack again */
       :: else ->
          stale = eorders[a] & ~rel;
#ifdef NO_RELEASE_CHECK
          stale = 0;
#endif
          if
          :: mode == 0 && emode[a] == 1 && stale != 0 ->
             /* refused (orders not released): the ack says so and what it holds */
             up!2, a, gen, mode, eorders[a]
          :: else ->
             if
             :: mode == 0 ->
                /* the promise: every order this agent ever enacted was resumed by an operator */
                for (stale : 0 .. NO - 1) {
                  assert(!has(everHeld[a], stale) || opResumed[stale])
                }
             :: else -> everHeld[a] = everHeld[a] | ords
             fi;
             egen[a] = gen; emode[a] = mode;
#ifdef REPLACE_HELD
             eorders[a] = (mode == 1 -> ords : 0);
#else
             /* a STOPPED state adds its orders to those held and not released (a fail-safe
                order, one a restored collector did not know yet); RUNNING released them all */
             eorders[a] = (mode == 1 -> (eorders[a] & ~rel) | ords : 0);
#endif
             up!1, a, gen, mode, eorders[a]
          fi
       fi
     }
  od
}

inline copy(from, to) {
  for (k : 0 .. NO - 1) {
    to.live[k] = from.live[k]; to.resumed[k] = from.resumed[k];
    to.adopted[k] = from.adopted[k]; to.scope[k] = from.scope[k]
  }
  for (k : 0 .. NA - 1) {
    to.dgen[k] = from.dgen[k]; to.dmode[k] = from.dmode[k]; to.dorders[k] = from.dorders[k];
    to.dreleased[k] = from.dreleased[k]; to.held[k] = from.held[k];
    to.agen[k] = from.agen[k]; to.amode[k] = from.amode[k]; to.acked[k] = from.acked[k]
  }
}

inline disconnect(a) {
  connected[a] = 0;
  do
  :: down[a]?_, _, _, _
  :: (len(down[a]) == 0) -> break
  od
}

/* the world: operators, networks, crashes and restores, each a bounded number of times */
proctype Driver() {
  byte a, b, o, covering, released, g, k;
  bit mode;
  byte budget = BUDGET;
  do
  :: budget > 0 && issued < NO ->                         /* an operator or the collector issues */
     atomic {
       budget--;
       if
       :: st.scope[issued] = FLEET
       :: st.scope[issued] = 0
       :: st.scope[issued] = 1
       fi;
       st.live[issued] = 1;
       issued++;
       recomputeAll()
     }
  :: budget > 0 ->                                        /* an operator resumes one order */
     atomic {
       budget--;
       if
       :: st.live[0] -> o = 0
       :: st.live[1] -> o = 1
       :: st.live[2] -> o = 2
       :: else -> o = NO
       fi;
       if
       :: o < NO ->
          st.live[o] = 0; st.resumed[o] = 1; opResumed[o] = 1;
          recomputeAll()
       :: else -> skip
       fi
     }
  :: budget > 0 ->                                        /* an agent's stream breaks */
     atomic {
       budget--;
       if
       :: connected[0] -> disconnect(0)
       :: connected[1] -> disconnect(1)
       :: else -> skip
       fi
     }
  :: budget > 0 ->                                        /* an agent (re)connects: Hello */
     atomic {
       budget--;
       if
       :: !connected[0] -> a = 0
       :: !connected[1] -> a = 1
       :: else -> a = NA
       fi;
       if
       :: a < NA -> connected[a] = 1; up!0, a, egen[a], emode[a], eorders[a]
       :: else -> skip
       fi
     }
  :: budget > 0 && issued < NO ->                         /* an agent's fail-safe while cut off */
     atomic {
       budget--;
       if
       :: !connected[0] && emode[0] == 0 && !(wanted[0] && wmode[0] == 1) -> a = 0
       :: !connected[1] && emode[1] == 0 && !(wanted[1] && wmode[1] == 1) -> a = 1
       :: else -> a = NA
       fi;
       if
       :: a < NA ->   /* StopEnactor.failsafe: a local STOPPED replaces what was wanted */
          wanted[a] = 0;
          emode[a] = 1; eorders[a] = with(0, issued); everHeld[a] = with(everHeld[a], issued);
          issued++
       :: else -> skip
       fi
     }
  :: budget > 0 && !haveBackup ->                         /* a backup of the store */
     atomic { budget--; haveBackup = 1; copy(st, backup) }
  :: budget > 0 && haveBackup && !restored && (len(up) == 0) ->  /* restored from that backup */
     atomic {
       budget--;
       restored = 1;
       disconnect(0);
       disconnect(1);
       copy(backup, st)
     }
  :: budget > 0 && (len(up) == 0) ->                           /* the collector resends unacked states */
     atomic {
       budget--;
       for (k : 0 .. NA - 1) {
         if
         :: connected[k] && (len(down[k]) == 0) && !(st.acked[k] && st.agen[k] == st.dgen[k] && st.amode[k] == st.dmode[k]) ->
            send(k)
         :: else -> skip
         fi
       }
     }
  :: budget == 0 -> break
  od;
  /* settle: connect everyone, resend until acked (as resendPending does), a few rounds at most */
  budget = 0;
  atomic {
    for (k : 0 .. NA - 1) {
      if
      :: !connected[k] -> connected[k] = 1; up!0, k, egen[k], emode[k], eorders[k]
      :: else -> skip
      fi
    }
  }
  do
  :: (len(up) == 0) && (len(down[0]) == 0) && (len(down[1]) == 0) && !wanted[0] && !wanted[1] ->
     atomic {
       k = 0;
       for (a : 0 .. NA - 1) {
         if
         :: !(st.acked[a] && st.agen[a] == st.dgen[a] && st.amode[a] == st.dmode[a]) -> send(a); k = 1
         :: else -> skip
         fi
       }
       if
       :: k == 0 -> break
       :: else ->
          /* a resend that changes nothing, again and again: it never converges */
          budget++;
          assert(budget <= 3)
       fi
     }
  od;
  /* converged: every agent enacted its desired state, and the collector counted the ack */
  for (a : 0 .. NA - 1) {
    assert(egen[a] == st.dgen[a] && emode[a] == st.dmode[a]);
    /* an agent covered by an order an operator never resumed is stopped */
    for (o : 0 .. NO - 1) {
      assert(!(has(everHeld[a], o) && !opResumed[o]) || emode[a] == 1)
    }
  }
}

init {
  atomic {
    byte a;
    for (a : 0 .. NA - 1) { st.dgen[a] = 1; egen[a] = 0; connected[a] = 1 }
    clock = 1;
    run Collector();
    run Agent(0);
    run Agent(1);
    run Driver()
  }
}
