package dev.lockstep.collector.cluster;

import dev.lockstep.collector.core.Input;
import dev.lockstep.collector.core.Refusal;
import dev.lockstep.proto.store.v1.ClusterActor;
import dev.lockstep.proto.store.v1.ClusterInput;
import dev.lockstep.proto.store.v1.ClusterRefusal;
import dev.lockstep.proto.store.v1.ClusterReply;
import dev.lockstep.proto.store.v1.DiffComputedInput;
import dev.lockstep.proto.store.v1.EvidenceStoredInput;
import dev.lockstep.proto.store.v1.IdList;
import dev.lockstep.proto.store.v1.IncidentActionInput;
import dev.lockstep.proto.store.v1.SinkFailingInput;
import dev.lockstep.proto.store.v1.StopAckInput;
import dev.lockstep.proto.store.v1.StoreSpaceInput;
import dev.lockstep.proto.v1.EnableStopRequest;
import dev.lockstep.proto.v1.Hello;
import dev.lockstep.proto.v1.Incident;
import dev.lockstep.proto.v1.ResumeStopRequest;
import dev.lockstep.proto.v1.StopOrder;
import dev.lockstep.proto.v1.StopState;
import java.util.List;

/**
 * Core inputs and their answers as Kafka records: a gateway or the operator API turns an
 * {@link Input} into a {@link ClusterInput}; the core task turns it back, applies it, and answers
 * with a {@link ClusterReply} the caller turns back into the value (or {@link Refusal}) the
 * embedded host would have returned.
 */
final class ClusterInputs {
  private ClusterInputs() {}

  static ClusterInput.Builder encode(Input in) {
    ClusterInput.Builder b = ClusterInput.newBuilder();
    if (in instanceof Input.Hello h) {
      b.setHello(Hello.newBuilder().setAgentId(h.agentId()).putAllLabels(h.labels())
          .setEnactedStop(h.enacted()));
    } else if (in instanceof Input.Ack a) {
      b.setAck(StopAckInput.newBuilder().setAgentId(a.agentId()).setAck(a.ack()));
    } else if (in instanceof Input.IssueOrder o) {
      b.setIssue(EnableStopRequest.newBuilder().setReason(nz(o.reason())).setScope(o.scope()))
          .setActor(actor(o.who(), o.role(), o.remote()));
    } else if (in instanceof Input.Resume r) {
      b.setResume(ResumeStopRequest.newBuilder().setReason(nz(r.reason()))
          .addAllOrderIds(r.orderIds()).setAll(r.all()))
          .setActor(actor(r.who(), r.role(), r.remote()));
    } else if (in instanceof Input.IncidentAction a) {
      b.setIncidentAction(IncidentActionInput.newBuilder().setIncidentId(a.incidentId())
          .setResolve(a.resolve()).setNote(nz(a.note())))
          .setActor(actor(a.who(), a.role(), a.remote()));
    } else if (in instanceof Input.EvidenceStored s) {
      b.setEvidenceStored(EvidenceStoredInput.newBuilder().setRequestId(s.requestId()).setInfo(s.info()));
    } else if (in instanceof Input.CaptureDone d) {
      b.setCaptureDone(d.requestId());
    } else if (in instanceof Input.DiffComputed d) {
      Input.DiffResult r = d.diff();
      b.setDiffComputed(DiffComputedInput.newBuilder().setIncidentId(d.incidentId())
          .setCategory(nz(r.category())).setFirstStepIndex(r.firstStepIndex())
          .setFirstStepName(nz(r.firstStepName())).setExplanation(nz(r.explanation()))
          .addAllDifferences(r.differences()).setRoles(nz(r.roles()))
          .setTotalDifferences(r.totalDifferences()));
    } else if (in instanceof Input.SinkFailing f) {
      b.setSinkFailing(SinkFailingInput.newBuilder().setSink(f.sink()).setDetail(nz(f.detail())));
    } else if (in instanceof Input.StoreSpace s) {
      b.setStoreSpace(StoreSpaceInput.newBuilder().setState(s.state()).setFreeBytes(s.freeBytes())
          .setDetail(nz(s.detail())));
    } else if (in instanceof Input.ForgetIncidents f) {
      b.setForgetIncidents(IdList.newBuilder().addAllIds(f.incidentIds()));
    } else if (in instanceof Input.ForgetResumedOrders f) {
      b.setForgetResumedBeforeMs(f.resumedBeforeMillis());
    } else {
      throw new IllegalArgumentException("not a control input in cluster mode: "
          + in.getClass().getSimpleName());
    }
    return b;
  }

  /** The input a record stands for; null for an input this version does not know (skipped). */
  static Input decode(ClusterInput c) {
    ClusterActor a = c.getActor();
    return switch (c.getInputCase()) {
      case HELLO -> new Input.Hello(c.getHello().getAgentId(), -1, c.getHello().getLabelsMap(),
          c.getHello().getEnactedStop());
      case ACK -> new Input.Ack(c.getAck().getAgentId(), c.getAck().getAck());
      case ISSUE -> new Input.IssueOrder(c.getIssue().getScope(), c.getIssue().getReason(),
          a.getWho(), a.getRole(), a.getRemoteAddress());
      case RESUME -> new Input.Resume(c.getResume().getOrderIdsList(), c.getResume().getAll(),
          c.getResume().getReason(), a.getWho(), a.getRole(), a.getRemoteAddress());
      case INCIDENT_ACTION -> new Input.IncidentAction(c.getIncidentAction().getIncidentId(),
          c.getIncidentAction().getResolve(), c.getIncidentAction().getNote(), a.getWho(),
          a.getRole(), a.getRemoteAddress());
      case EVIDENCE_STORED -> new Input.EvidenceStored(c.getEvidenceStored().getRequestId(),
          c.getEvidenceStored().getInfo());
      case CAPTURE_DONE -> new Input.CaptureDone(c.getCaptureDone());
      case DIFF_COMPUTED -> {
        DiffComputedInput d = c.getDiffComputed();
        yield new Input.DiffComputed(d.getIncidentId(), new Input.DiffResult(d.getCategory(),
            d.getFirstStepIndex(), d.getFirstStepName(), d.getExplanation(),
            d.getDifferencesList(), d.getRoles(), d.getTotalDifferences()));
      }
      case SINK_FAILING -> new Input.SinkFailing(c.getSinkFailing().getSink(),
          c.getSinkFailing().getDetail());
      case STORE_SPACE -> new Input.StoreSpace(c.getStoreSpace().getState(),
          c.getStoreSpace().getFreeBytes(), c.getStoreSpace().getDetail());
      case FORGET_INCIDENTS -> new Input.ForgetIncidents(c.getForgetIncidents().getIdsList());
      case FORGET_RESUMED_BEFORE_MS -> new Input.ForgetResumedOrders(c.getForgetResumedBeforeMs());
      case INPUT_NOT_SET -> null;
    };
  }

  /** The core's answer as a reply record. */
  static ClusterReply.Builder reply(Object result) {
    ClusterReply.Builder r = ClusterReply.newBuilder();
    if (result instanceof Refusal x) {
      r.setRefused(ClusterRefusal.newBuilder().setCode(x.code().name()).setMessage(nz(x.getMessage())));
    } else if (result instanceof RuntimeException x) {
      r.setRefused(ClusterRefusal.newBuilder().setCode("INTERNAL")
          .setMessage("the core failed on this input: " + x));
    } else if (result instanceof StopOrder o) {
      r.setOrder(o);
    } else if (result instanceof Incident i) {
      r.setIncident(i);
    } else if (result instanceof StopState s) {
      r.setDesired(s);
    } else if (result instanceof Boolean counted) {
      r.setCounted(counted);
    } else if (result instanceof List<?> ids) {
      IdList.Builder l = IdList.newBuilder();
      for (Object o : ids) l.addIds(String.valueOf(o));
      r.setResumed(l);
    } else {
      r.setDone(true);
    }
    return r;
  }

  /**
   * The value a reply stands for, as the embedded host returns it; a refusal is thrown as the
   * {@link Refusal} it was, a core failure as an {@link IllegalStateException}.
   */
  static Object result(ClusterReply r) {
    return switch (r.getResultCase()) {
      case ORDER -> r.getOrder();
      case RESUMED -> List.copyOf(r.getResumed().getIdsList());
      case INCIDENT -> r.getIncident();
      case DESIRED -> r.getDesired();
      case COUNTED -> r.getCounted();
      case REFUSED -> {
        Refusal.Code code;
        try {
          code = Refusal.Code.valueOf(r.getRefused().getCode());
        } catch (IllegalArgumentException e) {
          throw new IllegalStateException(r.getRefused().getMessage());
        }
        throw new Refusal(code, r.getRefused().getMessage());
      }
      default -> null;
    };
  }

  private static ClusterActor actor(String who, String role, String remote) {
    return ClusterActor.newBuilder().setWho(nz(who)).setRole(nz(role)).setRemoteAddress(nz(remote))
        .build();
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }
}
