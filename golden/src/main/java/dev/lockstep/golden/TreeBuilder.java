package dev.lockstep.golden;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;
import java.util.ArrayList;

/** Builds a Jackson tree from {@link JsonEvents}, with an explicit stack (no recursion). */
final class TreeBuilder implements JsonEvents {
  private final JsonNodeFactory nodes = JsonNodeFactory.withExactBigDecimals(false);
  private final ArrayList<JsonNode> stack = new ArrayList<>();
  private final ArrayList<String> keys = new ArrayList<>();
  private JsonNode root;

  JsonNode root() {
    return root;
  }

  private void add(JsonNode value) {
    if (stack.isEmpty()) {
      root = value;
      return;
    }
    JsonNode parent = stack.get(stack.size() - 1);
    if (parent.isObject()) {
      ((ObjectNode) parent).set(keys.get(keys.size() - 1), value);
    } else {
      ((ArrayNode) parent).add(value);
    }
  }

  @Override
  public void startObject() {
    ObjectNode o = nodes.objectNode();
    add(o);
    stack.add(o);
    keys.add(null);
  }

  @Override
  public void key(String key) {
    keys.set(keys.size() - 1, key);
  }

  @Override
  public void endObject() {
    stack.remove(stack.size() - 1);
    keys.remove(keys.size() - 1);
  }

  @Override
  public void startArray() {
    ArrayNode a = nodes.arrayNode();
    add(a);
    stack.add(a);
    keys.add(null);
  }

  @Override
  public void endArray() {
    stack.remove(stack.size() - 1);
    keys.remove(keys.size() - 1);
  }

  @Override
  public void string(char[] chars, int offset, int length) {
    add(nodes.textNode(new String(chars, offset, length)));
  }

  @Override
  public void integer(long value) {
    add(value == (int) value ? nodes.numberNode((int) value) : nodes.numberNode(value));
  }

  @Override
  public void bigInteger(BigInteger value) {
    add(nodes.numberNode(value));
  }

  @Override
  public void decimal(double value) {
    add(nodes.numberNode(value));
  }

  @Override
  public void bool(boolean value) {
    add(nodes.booleanNode(value));
  }

  @Override
  public void nul() {
    add(nodes.nullNode());
  }
}
