package dev.lockstep.cli.completion;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lockstep completion bash|zsh}: prints a shell completion script for every command. */
@Command(
    name = "completion",
    mixinStandardHelpOptions = true,
    header = "Print a bash or zsh completion script.",
    synopsisHeading = "SYNOPSIS%n  ",
    descriptionHeading = "%nDESCRIPTION%n",
    parameterListHeading = "%nARGUMENTS%n",
    exitCodeListHeading = "%nEXIT STATUS%n",
    footerHeading = "%nEXAMPLES%n",
    description = {
      "Prints a completion script covering every command, subcommand and option. bash loads it"
          + " directly; zsh loads the same script through bashcompinit (the script enables it)."
    },
    exitCodeList = {"0:The script was printed.", "2:Unknown shell."},
    footer = {
      "  source <(lockstep completion bash)",
      "  lockstep completion bash > /etc/bash_completion.d/lockstep",
      "  echo 'source <(lockstep completion zsh)' >> ~/.zshrc"
    })
public final class CompletionCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "SHELL", description = "bash or zsh.", completionCandidates = Shells.class)
  String shell;

  @Override
  public Integer call() {
    if (!shell.equals("bash") && !shell.equals("zsh")) {
      spec.commandLine().getErr().println("lockstep: expected bash or zsh, got '" + shell + "'");
      return 2;
    }
    String script = AutoComplete.bash(spec.root().name(), spec.root().commandLine());
    if (shell.equals("zsh")) {
      spec.commandLine().getOut().println("# lockstep completion for zsh (bash completion via bashcompinit)");
    }
    spec.commandLine().getOut().print(script);
    spec.commandLine().getOut().flush();
    return 0;
  }

  static final class Shells extends java.util.AbstractList<String> {
    private static final java.util.List<String> NAMES = java.util.List.of("bash", "zsh");

    @Override
    public String get(int index) {
      return NAMES.get(index);
    }

    @Override
    public int size() {
      return NAMES.size();
    }
  }
}
