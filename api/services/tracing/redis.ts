/**
 * A client span for each Redis command sent inside a traced operation. ioredis has no command
 * events, so the one method every command goes through, `Redis.prototype.sendCommand`, is
 * wrapped — once per process, and only when tracing is on. Commands with no active span, or
 * one already ended (pub/sub, background refreshes), make none. The span holds the command name, never its
 * keys or values.
 */
import { SpanKind, SpanStatusCode, context, trace, type Tracer } from '@opentelemetry/api';
import { ATTR_DB_OPERATION_NAME, ATTR_DB_SYSTEM_NAME } from '@opentelemetry/semantic-conventions';
import { Redis } from 'ioredis';
import { messageOf } from '../../errors';

type SendCommand = Redis['sendCommand'];
type Command = Parameters<SendCommand>[0];

let tracerInUse: Tracer | undefined;

function traced(original: SendCommand): SendCommand {
  return function sendCommand(this: Redis, command: Command, ...rest) {
    const tracer = tracerInUse;
    const parent = context.active();
    if (tracer === undefined || trace.getSpan(parent)?.isRecording() !== true) {
      return original.call(this, command, ...rest);
    }
    const name = command.name.toUpperCase();
    const span = tracer.startSpan(
      name,
      {
        kind: SpanKind.CLIENT,
        attributes: { [ATTR_DB_SYSTEM_NAME]: 'redis', [ATTR_DB_OPERATION_NAME]: name },
      },
      parent,
    );
    command.promise.then(
      () => {
        span.end();
      },
      (err: unknown) => {
        span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(err) });
        span.end();
      },
    );
    return original.call(this, command, ...rest);
  };
}

/** Makes Redis commands of this process spans of `tracer` from now on. */
export function traceRedis(tracer: Tracer): void {
  if (tracerInUse === undefined) {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- rebound with call() above
    Redis.prototype.sendCommand = traced(Redis.prototype.sendCommand);
  }
  tracerInUse = tracer;
}
