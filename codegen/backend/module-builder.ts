/**
 * Collects a module as ts-morph structures and prints it once. Adding declarations one by one to
 * a ts-morph SourceFile re-parses the file after every insertion, which made codegen take
 * seconds; building the SourceFileStructure first and creating the file from it parses once.
 * The methods mirror SourceFile's so the emitter reads the same.
 */
import {
  type FunctionDeclarationStructure,
  type ImportDeclarationStructure,
  type InterfaceDeclarationStructure,
  type OptionalKind,
  type Project,
  type StatementStructures,
  StructureKind,
  type TypeAliasDeclarationStructure,
  type VariableStatementStructure,
  type WriterFunction,
} from 'ts-morph';

type Statement = StatementStructures | string | WriterFunction;

function hasBody(member: string): boolean {
  return member.trimEnd().endsWith('}');
}

/** A class whose members are given as source text (getters, methods, fields). */
export class ClassBuilder {
  private readonly members: string[] = [];

  constructor(
    private readonly name: string,
    private readonly docs: string[],
    private readonly isExported: boolean,
  ) {}

  addMembers(members: string[]): void {
    this.members.push(...members);
  }

  writer(): WriterFunction {
    return (w) => {
      for (const doc of this.docs) {
        w.writeLine('/**');
        for (const line of doc.split('\n')) w.writeLine(` * ${line}`.trimEnd());
        w.writeLine(' */');
      }
      w.write(`${this.isExported ? 'export ' : ''}class ${this.name} {`).newLine();
      // Fields one per line; a blank line around anything with a body.
      let text = '';
      this.members.forEach((m, i) => {
        const previous = this.members[i - 1];
        if (previous !== undefined) text += hasBody(m) || hasBody(previous) ? '\n\n' : '\n';
        text += m;
      });
      w.write(text).newLine();
      w.write('}');
    };
  }
}

export class ModuleBuilder {
  private readonly imports: ImportDeclarationStructure[] = [];
  private readonly statements: Array<Statement | ClassBuilder> = [];

  addImportDeclaration(s: OptionalKind<ImportDeclarationStructure>): void {
    this.imports.push({ ...s, kind: StructureKind.ImportDeclaration });
  }

  addVariableStatement(s: OptionalKind<VariableStatementStructure>): void {
    this.statements.push({ ...s, kind: StructureKind.VariableStatement });
  }

  /** Inserts before the statement at `index` (see ClassBuilder's position). */
  insertVariableStatement(index: number, s: OptionalKind<VariableStatementStructure>): void {
    this.statements.splice(index, 0, { ...s, kind: StructureKind.VariableStatement });
  }

  addInterface(s: OptionalKind<InterfaceDeclarationStructure>): void {
    this.statements.push({ ...s, kind: StructureKind.Interface });
  }

  addFunction(s: OptionalKind<FunctionDeclarationStructure>): void {
    this.statements.push({ ...s, kind: StructureKind.Function });
  }

  addTypeAlias(s: OptionalKind<TypeAliasDeclarationStructure>): void {
    this.statements.push({ ...s, kind: StructureKind.TypeAlias });
  }

  addStatements(text: string): void {
    this.statements.push(text);
  }

  addClass(s: { name: string; isExported: boolean; docs: string[] }): ClassBuilder {
    const cls = new ClassBuilder(s.name, s.docs, s.isExported);
    this.statements.push(cls);
    return cls;
  }

  indexOf(cls: ClassBuilder): number {
    return this.statements.indexOf(cls);
  }

  /** Prints the module: `header` comment, imports, then the statements in order. */
  print(project: Project, path: string, header: string): string {
    // A blank line between top-level declarations (prettier keeps one, drops doubles).
    const blank: WriterFunction = (w) => {
      w.blankLine();
    };
    const statements: Statement[] = [header, ...this.imports];
    for (const s of this.statements) {
      statements.push(blank, s instanceof ClassBuilder ? s.writer() : s);
    }
    return project.createSourceFile(path, { statements }, { overwrite: true }).getFullText();
  }
}
