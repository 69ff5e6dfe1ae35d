package dev.tally.spring;

import dev.tally.consumer.Batch;
import dev.tally.consumer.BatchHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.core.MethodIntrospector;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.util.ReflectionUtils;

/** Finds the {@link TallyListener} methods of the application's beans as they are created. */
final class TallyListenerMethods implements BeanPostProcessor {

    /** One annotated method of one bean, as a handler. */
    record Found(String beanName, Method method, BatchHandler<Object> handler) {}

    private final List<Found> found = new CopyOnWriteArrayList<>();

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) {
        Class<?> type = AopUtils.getTargetClass(bean);
        Map<Method, TallyListener> methods = MethodIntrospector.selectMethods(type,
                (MethodIntrospector.MetadataLookup<TallyListener>) m -> AnnotatedElementUtils.findMergedAnnotation(m, TallyListener.class));
        methods.keySet().forEach(m -> found.add(new Found(beanName, m, handler(bean, AopUtils.selectInvocableMethod(m, bean.getClass())))));
        return bean;
    }

    List<Found> found() {
        return List.copyOf(found);
    }

    private static BatchHandler<Object> handler(Object bean, Method method) {
        Class<?>[] p = method.getParameterTypes();
        boolean withConnection = p.length == 2 && p[0] == Batch.class && p[1] == Connection.class;
        if (!withConnection && !(p.length == 1 && p[0] == Batch.class)) {
            throw new IllegalStateException("@TallyListener method " + method + " must take (Batch) or (Batch, Connection)");
        }
        ReflectionUtils.makeAccessible(method);
        return (batch, connection) -> {
            try {
                if (withConnection) {
                    method.invoke(bean, batch, connection);
                } else {
                    method.invoke(bean, batch);
                }
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause();
                if (cause instanceof Exception ex) {
                    throw ex;
                }
                throw (Error) cause;
            }
        };
    }
}
