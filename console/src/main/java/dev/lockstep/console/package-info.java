/**
 * The web console: the pages, their assets from the jar, and a JSON and server-sent-events front
 * of the Operator API on the JDK's HTTP(S) server. Every call it makes to the Operator API is made
 * as the person at the browser (the operator's own certificate under {@code lockstep console}, the
 * browser's verified client certificate in the collector), so roles and audit are the API's own.
 */
package dev.lockstep.console;
